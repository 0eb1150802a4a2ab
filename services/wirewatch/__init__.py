"""wirewatch: watch the news as it is published and alert when an outlet reports people killed or wounded."""

__version__ = "0.1.0"
