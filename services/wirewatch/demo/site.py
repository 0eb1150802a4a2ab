"""Offline sample news site for ``make demo`` and the integration tests.

Why one module of ~900 lines: it is a whole fake web (feeds, sitemaps, short links, redirects,
robots.txt, faults) behind one HTTP handler; it ships only in the ``demo`` extra.

``DemoSite`` serves an invented outlet, "The Meridian Ledger", on loopback
from a background thread, so it works the same from sync and async code::

    with DemoSite() as site:
        feed = site.base_url + "/feed.xml"
        expected = site.manifest()

It serves an RSS feed (``/feed.xml``) and an Atom feed (``/atom.xml``) whose
items point at short links (``/s/<code>``); those reach the final pages
through chains of 301/302/303/307/308 redirects. Behind them are casualty
reports, a follow-up with a higher toll, ordinary news (no casualties), a
PDF, dead links, and two pages that are not articles (a section index and a
"page moved" stub). Article pages
carry the usual boilerplate (navigation, cookie banner, share bar, ads,
related links, reader comments, footer) so that text extraction is tested
against something close to a real site. ``manifest()`` says what each feed
item should yield. Content lives in ``wirewatch.demo.pages.catalog``.

Run ``python -m wirewatch.demo.site`` (or this file) to browse it by hand.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

try:
    from .pages.catalog import ITEMS, SECTIONS, Article, FeedItem
except ImportError:  # run as a plain script: python services/wirewatch/demo/site.py
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from wirewatch.demo.pages.catalog import ITEMS, SECTIONS, Article, FeedItem

__all__ = ["SITE_NAME", "DemoSite"]

SITE_NAME = "The Meridian Ledger"
HTML = "text/html; charset=utf-8"
PDF_PATH = "/files/regional-transport-statistics-2026.pdf"

# Interface text per page language. None of it may contain casualty
# vocabulary: it appears on the "news" pages, which must not trigger alerts.
UI: dict[str, dict[str, Any]] = {
    "en": {
        "locale": "en_GB",
        "home": "Home",
        "nav": (
            ("World", "/world/"),
            ("Business", "/business/"),
            ("Sport", "/sport/"),
            ("Culture", "/culture/"),
            ("Science", "/science/"),
            ("Opinion", "/opinion/"),
            ("Podcasts", "/podcasts/"),
            ("Newsletters", "/newsletters/"),
            ("En français", "/fr/"),
        ),
        "cookie": (
            "We use cookies and similar technologies to personalise content "
            "and adverts and to understand how our site is used. You can "
            "change your choices at any time in Cookie settings."
        ),
        "cookie_accept": "Accept all cookies",
        "cookie_manage": "Manage preferences",
        "cookie_policy": "Read our cookie policy",
        "search": "Search the Ledger",
        "subscribe": "Subscribe from £1 a week",
        "advert": "Advertisement",
        "ads": (
            "Compare broadband deals in your area and switch in minutes.",
            "Sponsored: river cruises along the Douro at winter prices.",
            "Sponsored: learn a language in ten minutes a day with LinguaLeaf.",
        ),
        "by": "By",
        "share": "Share this article",
        "share_links": ("Facebook", "X", "WhatsApp", "LinkedIn", "Email"),
        "copy_link": "Copy link",
        "related": "Related stories",
        "comments": "Comments",
        "comment_prompt": "Join the conversation: sign in or register to comment.",
        "comment_rules": "Read our community guidelines",
        "most_read": "Most read",
        "newsletter": "Get the Morning Ledger in your inbox every weekday.",
        "newsletter_button": "Sign up",
        "footer": (
            ("About us", "/about/"),
            ("Contact us", "/contact/"),
            ("Careers", "/careers/"),
            ("Advertise with us", "/advertise/"),
            ("Privacy policy", "/privacy/"),
            ("Cookie settings", "/cookies/"),
            ("Terms of use", "/terms/"),
            ("Accessibility", "/accessibility/"),
            ("Corrections and clarifications", "/corrections/"),
            ("Editorial standards", "/standards/"),
            ("RSS feeds", "/feed.xml"),
            ("Puzzles", "/puzzles/"),
            ("Archive", "/archive/"),
            ("Sitemap", "/sitemap/"),
            ("Help centre", "/help/"),
        ),
        "follow": "Follow us",
        "copyright": "© 2026 Meridian Ledger Media Ltd. All rights reserved.",
        "not_found_title": "Page not found",
        "not_found": ("Sorry, we could not find that page. It may have moved, or the address may be wrong."),
        "back_home": "Go to the home page",
        "months": (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
    },
    "fr": {
        "locale": "fr_FR",
        "home": "Accueil",
        "nav": (
            ("Monde", "/fr/monde/"),
            ("Économie", "/fr/economie/"),
            ("Sport", "/fr/sport/"),
            ("Culture", "/fr/culture/"),
            ("Sciences", "/fr/sciences/"),
            ("Opinions", "/fr/opinions/"),
            ("Podcasts", "/fr/podcasts/"),
            ("In English", "/"),
        ),
        "cookie": (
            "Nous utilisons des cookies et des technologies similaires pour "
            "personnaliser les contenus et les publicités et mesurer "
            "l'audience. Vous pouvez modifier vos choix à tout moment."
        ),
        "cookie_accept": "Tout accepter",
        "cookie_manage": "Paramétrer",
        "cookie_policy": "Notre politique de cookies",
        "search": "Rechercher",
        "subscribe": "Abonnez-vous dès 1 € par semaine",
        "advert": "Publicité",
        "ads": (
            "Comparez les offres fibre de votre quartier en quelques clics.",
            "Contenu sponsorisé : croisières sur le Rhône à prix d'hiver.",
            "Contenu sponsorisé : apprenez une langue en dix minutes par jour.",
        ),
        "by": "Par",
        "share": "Partager cet article",
        "share_links": ("Facebook", "X", "WhatsApp", "LinkedIn", "E-mail"),
        "copy_link": "Copier le lien",
        "related": "À lire aussi",
        "comments": "Commentaires",
        "comment_prompt": "Connectez-vous ou créez un compte pour réagir.",
        "comment_rules": "Notre charte de modération",
        "most_read": "Les plus lus",
        "newsletter": "Recevez La Lettre du matin chaque jour de la semaine.",
        "newsletter_button": "Je m'inscris",
        "footer": (
            ("Qui sommes-nous", "/fr/a-propos/"),
            ("Contact", "/fr/contact/"),
            ("Recrutement", "/careers/"),
            ("Publicité", "/advertise/"),
            ("Confidentialité", "/privacy/"),
            ("Gestion des cookies", "/cookies/"),
            ("Mentions légales", "/fr/mentions-legales/"),
            ("Accessibilité", "/accessibility/"),
            ("Flux RSS", "/feed.xml"),
            ("Archives", "/archive/"),
            ("Plan du site", "/sitemap/"),
        ),
        "follow": "Suivez-nous",
        "copyright": "© 2026 Meridian Ledger Media. Tous droits réservés.",
        "not_found_title": "Page introuvable",
        "not_found": "Désolé, cette page n'existe pas ou a été déplacée.",
        "back_home": "Retour à l'accueil",
        "months": (
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
    },
}

SOCIAL = (
    ("Facebook", "https://facebook.invalid/meridianledger"),
    ("Instagram", "https://instagram.invalid/meridianledger"),
    ("YouTube", "https://youtube.invalid/meridianledger"),
)

CSS = b"""body{font-family:Georgia,serif;margin:0 auto;max-width:72rem;color:#222}
.site-header,.site-footer{font-family:Helvetica,Arial,sans-serif;background:#10243e;color:#fff;padding:1rem}
.site-header a,.site-footer a{color:#fff}.main-nav ul,.site-footer ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;padding:0}
.cookie-banner{position:fixed;bottom:0;left:0;right:0;background:#f3f0e8;padding:1rem;border-top:2px solid #10243e}
.ad{background:#eee;text-align:center;padding:1rem;margin:1rem 0;font-family:sans-serif;font-size:.8rem}
.breadcrumb ol{list-style:none;display:flex;gap:.5rem;padding:0}.share-bar a{margin-right:.5rem}
.comments{border-top:1px solid #ccc;margin-top:2rem}.sidebar{font-family:sans-serif}
"""

# Headlines for the "Most read" box. Only casualty-free stories are listed,
# since the box appears on every page, including the "news" ones.
MOST_READ_KEYS = ("copper", "marathon", "museum", "lyon")


def _dt(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _rfc822(iso: str) -> str:
    return format_datetime(_dt(iso), usegmt=True)


def _display_date(iso: str, lang: str) -> str:
    d = _dt(iso)
    month = UI[lang]["months"][d.month - 1]
    if lang == "fr":
        return f"{d.day} {month} {d.year} à {d.hour:02d}h{d.minute:02d} (UTC)"
    return f"{d.day} {month} {d.year}, {d.hour:02d}:{d.minute:02d} GMT"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _pdf_bytes() -> bytes:
    """A one-page PDF with a correct xref table, so PDF tooling accepts it."""
    text = b"Regional transport statistics 2026 - The Meridian Ledger data desk"
    stream = b"BT /F1 14 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (Regional transport statistics 2026) /Producer (wirewatch demo) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = _pdf_bytes()

ROBOTS = b"User-agent: *\nAllow: /\n"


class _Renderer:
    """Builds every response body for one base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.items = {i.key: i for i in ITEMS}

    def url(self, path: str) -> str:
        return self.base + path

    # -- shared page furniture ------------------------------------------------

    def _head(self, *, lang: str, title: str, description: str, canonical: str, og_type: str, extra: str = "") -> str:
        ui = UI[lang]
        return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {SITE_NAME}</title>
<meta name="description" content="{escape(description)}">
<link rel="canonical" href="{escape(canonical)}">
<meta property="og:type" content="{og_type}">
<meta property="og:title" content="{escape(title)}">
<meta property="og:description" content="{escape(description)}">
<meta property="og:url" content="{escape(canonical)}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:locale" content="{ui["locale"]}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@meridianledger">
{extra}<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{self.url("/feed.xml")}">
<link rel="alternate" type="application/atom+xml" title="{SITE_NAME}" href="{self.url("/atom.xml")}">
<link rel="stylesheet" href="/static/site.css">
</head>
"""

    def _top(self, lang: str) -> str:
        ui = UI[lang]
        home = "/fr/" if lang == "fr" else "/"
        nav = "".join(f'<li><a href="{href}">{escape(label)}</a></li>' for label, href in ui["nav"])
        return f"""<body>
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookies">
<p>{escape(ui["cookie"])} <a href="/cookies/">{ui["cookie_policy"]}</a></p>
<button type="button" class="cookie-accept">{ui["cookie_accept"]}</button>
<button type="button" class="cookie-manage">{ui["cookie_manage"]}</button>
</div>
<header class="site-header">
<a class="logo" href="{home}">{SITE_NAME}</a>
<nav class="main-nav" aria-label="Main"><ul><li><a href="{home}">{ui["home"]}</a></li>{nav}</ul></nav>
<form class="search" action="/search" role="search"><input type="search" name="q" placeholder="{escape(ui["search"])}"><button type="submit">{escape(ui["search"])}</button></form>
<a class="subscribe" href="/subscribe/">{escape(ui["subscribe"])}</a>
</header>
{self._ad(lang, 0, "ad-leaderboard")}
"""

    def _ad(self, lang: str, n: int, slot: str) -> str:
        ui = UI[lang]
        return (
            f'<div class="ad {slot}" id="{slot}" data-ad-slot="{slot}">'
            f'<span class="ad-label">{ui["advert"]}</span>'
            f'<a href="/ads/click?slot={slot}" rel="sponsored nofollow">'
            f"{escape(ui['ads'][n])}</a></div>\n"
        )

    def _sidebar(self, lang: str) -> str:
        ui = UI[lang]
        links = "".join(
            f'<li><a href="{article.canonical}">{escape(self.items[k].title)}</a></li>'
            for k in MOST_READ_KEYS
            if (article := self.items[k].article)
        )
        return f"""<aside class="sidebar most-read">
<h2>{ui["most_read"]}</h2>
<ol>{links}</ol>
{self._ad(lang, 2, "ad-mpu")}<div class="newsletter-signup"><p>{escape(ui["newsletter"])}</p>
<form action="/newsletters/signup" method="post"><input type="email" name="email"><button type="submit">{escape(ui["newsletter_button"])}</button></form></div>
</aside>
"""

    def _footer(self, lang: str) -> str:
        ui = UI[lang]
        links = "".join(f'<li><a href="{href}">{escape(label)}</a></li>' for label, href in ui["footer"])
        sections = "".join(f'<li><a href="{href}">{escape(label)}</a></li>' for label, href in ui["nav"])
        social = "".join(f'<li><a href="{href}" rel="noopener">{name}</a></li>' for name, href in SOCIAL)
        return f"""<footer class="site-footer">
<nav aria-label="Sections"><ul>{sections}</ul></nav>
<nav aria-label="Company"><ul>{links}</ul></nav>
<div class="social"><span>{ui["follow"]}</span><ul>{social}</ul></div>
<p class="copyright">{escape(ui["copyright"])}</p>
</footer>
</body>
</html>
"""

    # -- pages ------------------------------------------------------------------

    def article(self, item: FeedItem) -> str:
        a: Article = item.article  # type: ignore[assignment]
        ui = UI[a.lang]
        canonical = self.url(a.canonical)
        section = SECTIONS[a.section]
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": a.title,
            "description": a.description,
            "datePublished": a.published,
            "dateModified": a.modified or a.published,
            "inLanguage": a.lang,
            "author": [{"@type": "Person", "name": a.author}],
            "publisher": {"@type": "Organization", "name": SITE_NAME},
            "mainEntityOfPage": canonical,
            "articleSection": section.label,
        }
        extra = (
            f'<meta name="author" content="{escape(a.author)}">\n'
            f'<meta property="article:published_time" content="{a.published}">\n'
            + (f'<meta property="article:modified_time" content="{a.modified}">\n' if a.modified else "")
            + f'<meta property="article:section" content="{escape(section.label)}">\n'
            f'<meta property="article:author" content="{escape(a.author)}">\n'
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>\n'
        )
        crumbs = [
            f'<li><a href="{"/fr/" if a.lang == "fr" else "/"}">{ui["home"]}</a></li>',
            f'<li><a href="{section.path}">{escape(a.breadcrumb[0])}</a></li>',
        ]
        crumbs += [f"<li>{escape(label)}</li>" for label in a.breadcrumb[1:]]
        share = "".join(
            f'<a class="share-{_slug(name)}" href="/share?to={_slug(name)}&amp;u={escape(canonical)}">{name}</a>'
            for name in ui["share_links"]
        )
        paragraphs = [f"<p>{escape(p, quote=False)}</p>" for p in a.paragraphs]
        # An ad in the middle of the body, as most outlets do: the extractor
        # has to drop it without losing the paragraphs around it.
        paragraphs.insert(3, self._ad(a.lang, 1, "ad-inarticle").rstrip())
        related = "".join(self._related_link(n, key) for n, key in enumerate(a.related))
        comments = "".join(
            f'<li class="comment" id="comment-{n}"><div class="comment-meta">'
            f'<span class="comment-author">{escape(c.author)}</span> '
            f'<span class="comment-time">{escape(c.posted)}</span></div>'
            f'<p class="comment-text">{escape(c.text, quote=False)}</p>'
            f'<a class="comment-reply" href="#reply-{n}">Reply</a></li>\n'
            for n, c in enumerate(a.comments, start=1)
        )
        return (
            self._head(
                lang=a.lang,
                title=a.title,
                description=a.description,
                canonical=canonical,
                og_type="article",
                extra=extra,
            )
            + self._top(a.lang)
            + f"""<main id="content">
<nav class="breadcrumb" aria-label="Breadcrumb"><ol>{"".join(crumbs)}</ol></nav>
<article class="article">
<header class="article-header">
<h1>{escape(a.title)}</h1>
<p class="standfirst">{escape(a.description)}</p>
<p class="byline">{ui["by"]} <a rel="author" href="/profile/{_slug(a.author)}/">{escape(a.author)}</a>, {escape(a.author_role)}</p>
<time class="published" datetime="{a.published}">{_display_date(a.published, a.lang)}</time>
</header>
<div class="share-bar"><span>{ui["share"]}</span>{share}<button type="button" class="copy-link">{ui["copy_link"]}</button></div>
<div class="article-body">
{chr(10).join(paragraphs)}
</div>
</article>
<aside class="related-articles">
<h2>{ui["related"]}</h2>
<ul>{related}</ul>
</aside>
<section class="comments" id="comments">
<h2>{ui["comments"]} ({len(a.comments)})</h2>
<ol class="comment-list">
{comments}</ol>
<p class="comment-signin">{escape(ui["comment_prompt"])} <a href="/community/">{ui["comment_rules"]}</a></p>
</section>
</main>
"""
            + self._sidebar(a.lang)
            + self._footer(a.lang)
        )

    def _related_link(self, n: int, key: str) -> str:
        target = self.items[key]
        path = target.article.canonical if target.article else target.final_target
        # Mix relative and absolute hrefs, as CMS output usually does.
        href = self.url(path) if n % 2 else path
        return f'<li><a href="{href}">{escape(target.title)}</a></li>'

    def section(self, key: str) -> str:
        section = SECTIONS[key]
        lang = "fr" if section.path.startswith("/fr/") else "en"
        ui = UI[lang]
        entries = [
            f'<li><a href="{i.article.canonical}">{escape(i.title)}</a> '
            f'<time datetime="{i.published}">{_display_date(i.published, lang)}</time></li>'
            for i in ITEMS
            if i.article and i.article.section == key
        ]
        entries += [
            f'<li><a href="{section.path}archive/{_slug(h)}.html">{escape(h)}</a></li>' for h in section.extra_headlines
        ]
        title = f"{section.label}: latest headlines" if lang == "en" else section.label
        return (
            self._head(
                lang=lang,
                title=title,
                canonical=self.url(section.path),
                description=f"{SITE_NAME} {section.label}",
                og_type="website",
            )
            + self._top(lang)
            + f"""<main id="content" class="section-index">
<nav class="breadcrumb" aria-label="Breadcrumb"><ol><li><a href="/">{ui["home"]}</a></li><li>{escape(section.label)}</li></ol></nav>
<h1>{escape(section.label)}</h1>
<p class="section-intro">{escape(section.intro)}</p>
<ul class="headline-list">
{chr(10).join(entries)}
</ul>
<nav class="pagination"><a href="{section.path}?page=2">Next page</a></nav>
</main>
"""
            + self._sidebar(lang)
            + self._footer(lang)
        )

    def stub(self, item: FeedItem) -> str:
        st = item.stub
        assert st is not None
        return (
            self._head(
                lang=st.lang, title=st.title, canonical=self.url(st.path), description=st.text, og_type="website"
            )
            + self._top(st.lang)
            + f"""<main id="content" class="page-moved">
<h1>{escape(st.title)}</h1>
<p>{escape(st.text)} <a href="{st.link_path}">{escape(st.link_label)}</a></p>
</main>
"""
            + self._sidebar(st.lang)
            + self._footer(st.lang)
        )

    def home(self) -> str:
        entries = "".join(f'<li><a href="{i.article.canonical}">{escape(i.title)}</a></li>' for i in ITEMS if i.article)
        return (
            self._head(
                lang="en",
                title="News, analysis and opinion",
                canonical=self.url("/"),
                description=f"{SITE_NAME}: the demo outlet",
                og_type="website",
            )
            + self._top("en")
            + f'<main id="content"><h1>Top stories</h1><ul class="headline-list">{entries}</ul></main>\n'
            + self._sidebar("en")
            + self._footer("en")
        )

    def not_found(self, path: str) -> str:
        lang = "fr" if path.startswith("/fr/") else "en"
        ui = UI[lang]
        return (
            self._head(
                lang=lang,
                title=ui["not_found_title"],
                canonical=self.url(path),
                description=ui["not_found_title"],
                og_type="website",
            )
            + self._top(lang)
            + f"""<main id="content" class="error-page">
<h1>{ui["not_found_title"]}</h1>
<p>{escape(ui["not_found"])}</p>
<p><a href="/">{ui["back_home"]}</a></p>
</main>
"""
            + self._footer(lang)
        )

    def redirect_body(self, location: str) -> str:
        return (
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Moved</title>'
            f'</head><body><p>Moved to <a href="{escape(location)}">{escape(location)}</a>.</p>'
            f"</body></html>\n"
        )

    # -- feeds ------------------------------------------------------------------

    def _feed_order(self) -> list[FeedItem]:
        return sorted(ITEMS, key=lambda i: _dt(i.published), reverse=True)

    def rss(self) -> str:
        items = []
        for i in self._feed_order():
            creator = f"<dc:creator>{xml_escape(i.article.author)}</dc:creator>" if i.article else ""
            category = f"<category>{xml_escape(SECTIONS[i.article.section].label)}</category>" if i.article else ""
            items.append(
                f"""<item>
<title>{xml_escape(i.title)}</title>
<link>{self.url(i.short_path)}</link>
<guid isPermaLink="false">{_guid(i)}</guid>
<pubDate>{_rfc822(i.published)}</pubDate>
<description>{xml_escape(i.summary)}</description>
{category}{creator}
</item>"""
            )
        newest = self._feed_order()[0].published
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{SITE_NAME}: latest</title>
<link>{self.url("/")}</link>
<description>Latest stories from {SITE_NAME}, an invented outlet for the wirewatch demo.</description>
<language>en-gb</language>
<lastBuildDate>{_rfc822(newest)}</lastBuildDate>
<ttl>5</ttl>
<atom:link href="{self.url("/feed.xml")}" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""

    def atom(self) -> str:
        entries = []
        for i in self._feed_order():
            author = f"<author><name>{xml_escape(i.article.author)}</name></author>" if i.article else ""
            entries.append(
                f"""<entry>
<title>{xml_escape(i.title)}</title>
<link rel="alternate" href="{self.url(i.short_path)}"/>
<id>{_guid(i)}</id>
<published>{i.published}</published>
<updated>{(i.article.modified if i.article and i.article.modified else i.published)}</updated>
<summary>{xml_escape(i.summary)}</summary>
{author}
</entry>"""
            )
        newest = self._feed_order()[0].published
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-gb">
<title>{SITE_NAME}: latest</title>
<id>tag:meridian-ledger.example,2026:feed</id>
<link rel="self" href="{self.url("/atom.xml")}"/>
<link rel="alternate" href="{self.url("/")}"/>
<updated>{newest}</updated>
<author><name>{SITE_NAME}</name></author>
{chr(10).join(entries)}
</feed>
"""


def _guid(item: FeedItem) -> str:
    # Port-independent so that deduplication can be tested across restarts.
    return f"tag:meridian-ledger.example,2026:{item.code}"


def _redirect_table() -> dict[str, tuple[int, str, bool]]:
    table: dict[str, tuple[int, str, bool]] = {}
    for item in ITEMS:
        source = item.short_path
        for hop in item.hops:
            table[source] = (hop.status, hop.target, hop.absolute)
            source = urlsplit(hop.target).path
    return table


REDIRECTS = _redirect_table()
PAGES: dict[str, FeedItem] = {}
for _item in ITEMS:
    if _item.article:
        for _path in (_item.article.path, *_item.article.alias_paths):
            PAGES[_path] = _item
STUBS: dict[str, FeedItem] = {i.stub.path: i for i in ITEMS if i.stub}
SECTION_PATHS = {s.path: key for key, s in SECTIONS.items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: DemoSite

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up early (a fetcher refusing a PDF after its headers) is normal
        # here; anything else is still reported.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "MeridianLedger/1.0"
    sys_version = ""
    # Drops idle keep-alive connections so stop() never waits on a client.
    timeout = 5

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        site = self.server.site
        render = site._renderer
        path = urlsplit(self.path).path
        headers: dict[str, str] = {}
        if path in REDIRECTS:
            status, target, absolute = REDIRECTS[path]
            location = render.url(target) if absolute else target
            headers["Location"] = location
            body, ctype = render.redirect_body(location).encode(), HTML
        elif path in PAGES:
            status, body, ctype = 200, render.article(PAGES[path]).encode(), HTML
            headers["Last-Modified"] = _rfc822(PAGES[path].article.modified or PAGES[path].published)  # type: ignore[union-attr]
        elif path in STUBS:
            status, body, ctype = 200, render.stub(STUBS[path]).encode(), HTML
        elif path in SECTION_PATHS:
            status, body, ctype = 200, render.section(SECTION_PATHS[path]).encode(), HTML
        elif path == "/":
            status, body, ctype = 200, render.home().encode(), HTML
        elif path == "/feed.xml":
            status, body, ctype = 200, render.rss().encode(), "application/rss+xml; charset=utf-8"
        elif path == "/atom.xml":
            status, body, ctype = 200, render.atom().encode(), "application/atom+xml; charset=utf-8"
        elif path == PDF_PATH:
            status, body, ctype = 200, PDF, "application/pdf"
            headers["Content-Disposition"] = 'inline; filename="regional-transport-statistics-2026.pdf"'
        elif path == "/robots.txt":
            status, body, ctype = 200, ROBOTS, "text/plain; charset=utf-8"
        elif path == "/static/site.css":
            status, body, ctype = 200, CSS, "text/css; charset=utf-8"
        else:
            status, body, ctype = 404, render.not_found(path).encode(), HTML
        site._record(self.command, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache" if status >= 300 else "max-age=60")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.site.verbose:
            super().log_message(format, *args)


class DemoSite:
    """The demo outlet, served on 127.0.0.1 from a daemon thread.

    Usable as ``with DemoSite() as site`` or ``async with DemoSite() as site``;
    or call ``start()``/``stop()`` (``astart()``/``astop()`` from async code).
    """

    def __init__(self, port: int = 0, *, verbose: bool = False) -> None:
        self.port = port
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._renderer: _Renderer
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, int]] = []

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoSite is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def feed_url(self) -> str:
        return self.base_url + "/feed.xml"

    @property
    def atom_url(self) -> str:
        return self.base_url + "/atom.xml"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Bind (port 0 picks a free one), serve in the background, return base_url."""
        if self._server is not None:
            return self.base_url
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.site = self
        self._server = server
        self._renderer = _Renderer(self.base_url)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"demo-site:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    async def astart(self) -> str:
        return self.start()

    async def astop(self) -> None:
        # shutdown() waits for the serve loop to notice; keep the event loop free.
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> DemoSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> DemoSite:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    # -- introspection ------------------------------------------------------

    def _record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self._requests.append((method, target, status))

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, request target, status) of every request served so far."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def manifest(self) -> list[dict[str, Any]]:
        """What each feed item should yield, with URLs for the current port.

        One dict per feed item, in catalog order. ``expect`` holds the figures
        a casualty extractor should find; both are None for items that report
        no casualties (news, PDF, dead links, the section index). Beyond the
        keys the integration tests rely on (short_url, final_url,
        canonical_url, kind, expect, title) there are: key, code, guid,
        published, redirects (status of each hop), hops, status and
        content_type of the final response, lang, first_sentence, paragraphs
        and notes.
        """
        base = self.base_url
        out = []
        for item in ITEMS:
            a = item.article
            if a is not None:
                canonical: str | None = base + a.canonical
            elif item.kind == "not_article":
                canonical = base + urlsplit(item.final_target).path
            else:
                canonical = None
            out.append(
                {
                    "key": item.key,
                    "code": item.code,
                    "short_url": base + item.short_path,
                    "final_url": base + item.final_target,
                    "canonical_url": canonical,
                    "kind": item.kind,
                    "expect": {"killed": item.killed, "injured": item.injured},
                    "title": item.title,
                    "guid": _guid(item),
                    "published": item.published,
                    "redirects": [h.status for h in item.hops],
                    "hops": len(item.hops),
                    "status": item.final_status,
                    "content_type": item.content_type,
                    "lang": a.lang if a else None,
                    "first_sentence": a.first_sentence if a else None,
                    "paragraphs": list(a.paragraphs) if a else [],
                    "notes": item.notes,
                }
            )
        return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=f"Serve {SITE_NAME} demo site on loopback.")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    site = DemoSite(args.port, verbose=not args.quiet)
    site.start()
    print(f"{SITE_NAME} demo site at {site.base_url}/")
    print(f"RSS feed:  {site.feed_url}")
    print(f"Atom feed: {site.atom_url}")
    for entry in site.manifest():
        print(f"  {entry['kind']:<16} {entry['short_url']}  {entry['title']}")
    print("Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
