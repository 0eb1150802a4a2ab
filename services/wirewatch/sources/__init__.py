"""Sources: where links come from and how they are put on the links topic.

poller       configured feeds, news sitemaps and sites, polled forever (state in storage)
feeds, sitemaps, discovery, schedule   the pure parts the poller uses
links        ``make_link``: the one way every source builds a link message
submit       ``wirewatch submit``: links from the command line; ``POST /links`` is in app.py
"""
