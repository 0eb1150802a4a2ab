"""Content of the offline demo news site (see ``wirewatch.demo.site``).

``catalog`` holds every feed item, its redirect chain and, for articles, the
text of the page. All outlets, people and events are invented for the demo.
"""

from .catalog import ARTICLES, ITEMS, SECTIONS, Article, Comment, FeedItem, Hop, Stub

__all__ = ["ARTICLES", "ITEMS", "SECTIONS", "Article", "Comment", "FeedItem", "Hop", "Stub"]
