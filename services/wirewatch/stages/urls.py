"""URL rules shared by the stages: a link as people share it in, an absolute http(s) URL out.

``normalise_link("arab.news/jtxzg")`` -> ``"https://arab.news/jtxzg"``; anything that is not an
http(s) URL with a host raises PermanentError("bad_url" | "bad_scheme").
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx
import idna

from ..errors import PermanentError

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Matches the article schema's maxLength for every URL field.
MAX_URL_LENGTH = 8192

# httpx percent-encodes what it cannot send, hosts included; a host with "%" was never a host.
_BAD_HOST = re.compile(r"[\s%/\\]")
_HAS_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# "mailto:x", "javascript:x", "data:x" carry a scheme without "//"; "localhost:8080/x" does not.
_OPAQUE_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!\d+(?:[/?#]|$))")


def normalise_link(link: str) -> str:
    """Return the absolute URL to request for a link as submitted.

    Short links are shared without a scheme (``arab.news/jtxzg``); they get ``https://``, which is
    what a browser would try first and what every shortener we care about serves.
    """
    s = link.strip()
    if not s:
        raise PermanentError("bad_url", "empty link")
    if s.startswith("//"):
        s = "https:" + s
    elif not _HAS_AUTHORITY.match(s):
        m = _OPAQUE_SCHEME.match(s)
        if m:
            raise PermanentError("bad_scheme", f"{m.group(1)}: links are not fetched: {_clip(link)}")
        s = "https://" + s
    return check_http_url(s, shown=link)


@lru_cache(maxsize=4096)  # the fetch agent asks twice per link (alias lookup, then remember)
def link_key(link: str) -> str:
    """One spelling of a submitted link, for keys that tell links apart (the alias table): a link
    shared as Unicode (``bücher.example/über``) and as punycode and percent-encoding
    (``https://xn--bcher-kva.example/%C3%BCber``) is one link, as is one with an upper-case host,
    a host written with combining marks (``bu\u0308cher``: UTS #46 maps it as browsers do), a
    trailing dot on its host, lower-case escapes, an escaped unreserved character (``%7E`` for
    ``~``) or a fragment. A link that is no http(s) URL keys as submitted (fetch refuses it with
    its reason)."""
    try:
        return _same_spelling(normalise_link(link))
    except PermanentError:
        return link.strip()


def _same_spelling(url: str) -> str:
    """`url` (absolute, ASCII) with the spellings RFC 3986 (6.2.2) counts as one written one way:
    an escaped unreserved character decoded (``%7E`` -> ``~``, ``%41`` -> ``A``: 6.2.2.2), other
    escapes in upper-case hex (``%2f`` -> ``%2F``: reserved ones keep their meaning escaped); and the
    host's trailing dot (the root zone) gone. A path segment whose escapes spell "." or ".." keeps
    them: decoded, it would name another path. Split by hand, not urlsplit/urlunsplit, so an empty
    "?" stays as written."""
    rest, hash_, fragment = url.partition("#")
    head, q, query = rest.partition("?")
    scheme, sep, authority_path = head.partition("://")
    if not sep:
        return _ESCAPE.sub(_escape_spelling, url)
    netloc, slash, path = authority_path.partition("/")
    user_at, host, port = _split_netloc(netloc)
    if host.endswith(".") and host != ".":
        host = host.rstrip(".")
    path = "/".join(_segment_spelling(s) for s in path.split("/"))
    user_at, query, fragment = (_ESCAPE.sub(_escape_spelling, x) for x in (user_at, query, fragment))
    return f"{scheme}{sep}{user_at}{host}{port}{slash}{path}{q}{query}{hash_}{fragment}"


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")  # RFC 3986 2.3


def _escape_spelling(m: re.Match[str]) -> str:
    c = chr(int(m.group()[1:], 16))
    return c if c in _UNRESERVED else m.group().upper()


def _segment_spelling(segment: str) -> str:
    spelled = _ESCAPE.sub(_escape_spelling, segment)
    return segment.upper() if spelled in (".", "..") else spelled


def _split_netloc(netloc: str) -> tuple[str, str, str]:
    """An authority as ("user:pass@" or "", host, ":port" or "")."""
    user, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not port.isdigit():  # no port, or the end of an IPv6 literal
        host, colon, port = hostport, "", ""
    return f"{user}{at}", host, f"{colon}{port}"


def _uts46(url: str) -> str:
    """`url` with a host that is not ASCII written as punycode after UTS #46 mapping (as browsers
    and intake do: case folded, NFC-composed, full-width dots made dots), so a host typed with
    combining marks (``cafe\u0301``) is the same host as its composed spelling (``café``); httpx
    alone encodes by IDNA 2008 without the mapping and refuses it. An ASCII URL is returned as is."""
    if url.isascii():
        return url
    netloc = urlsplit(url).netloc
    user_at, host, port = _split_netloc(netloc)
    if host.isascii():
        return url
    return url.replace(netloc, user_at + idna.encode(host, uts46=True).decode("ascii") + port, 1)


def check_http_url(url: str, *, shown: str | None = None) -> str:
    """Validate an absolute URL we are about to request; return it as httpx will send it."""
    return str(http_url(url, shown=shown))


@lru_cache(maxsize=1024)
def _parse(url: str) -> httpx.URL:
    """httpx's parse of ``url``, kept for the next ask: a fetch checks a link (normalise_link) and
    then requests it (http_get), the same string twice in a row. httpx.URL is immutable; a failed
    parse raises and is not kept."""
    return httpx.URL(_uts46(url))


def http_url(url: str, *, shown: str | None = None) -> httpx.URL:
    """``check_http_url``, returning the parsed URL: a request built from it is not parsed again
    (an httpx.URL parse is tens of microseconds of event-loop CPU, and each hop of a fetch took three)."""
    shown = _clip(shown if shown is not None else url)
    if len(url) > MAX_URL_LENGTH:
        raise PermanentError("bad_url", f"URL longer than {MAX_URL_LENGTH} characters: {shown}")
    try:
        parsed = _parse(url)
        host = parsed.host  # decodes an xn-- host: idna raises for one that is not punycode
    except (httpx.InvalidURL, ValueError) as e:  # ValueError: urlsplit's, idna's (IDNAError) and the codec's
        raise PermanentError("bad_url", f"malformed URL {shown}: {e}") from e
    if parsed.scheme not in ALLOWED_SCHEMES:
        scheme = parsed.scheme or "no scheme"
        raise PermanentError("bad_scheme", f"only http and https are fetched, not {scheme}: {shown}")
    if not host:
        raise PermanentError("bad_url", f"URL has no host: {shown}")
    if _BAD_HOST.search(host):
        raise PermanentError("bad_url", f"URL host is not a host name: {shown}")
    # The fragment never reaches the server; dropping it keeps chains and loop checks honest.
    # Rebuilding also drops a default port the parse kept after an upper-case scheme ("HTTP://a:80/"),
    # so only a lower-case scheme without "#" is taken as parsed.
    if "#" in url or not url.startswith(("http://", "https://")):
        return parsed.copy_with(fragment=None)
    return parsed


def resolve_location(base: str, location: str) -> str:
    """Resolve a redirect's Location (absolute, scheme-relative or relative) against the URL that sent it."""
    try:
        return urljoin(base, location.strip())
    except ValueError as e:  # e.g. an unbalanced "[" in an IPv6 host
        raise PermanentError("bad_url", f"{_clip(base)} redirects to a malformed URL {_clip(location)!r}") from e


def absolute_http_url(base: str, ref: str | None) -> str | None:
    """An href from a page made absolute against the page URL; None unless it ends up http(s)."""
    if not ref or not ref.strip():
        return None
    try:
        joined = urljoin(base, ref.strip())
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in ALLOWED_SCHEMES or not parts.netloc or len(joined) > MAX_URL_LENGTH:
        return None
    return joined


def _clip(text: str, limit: int = 300) -> str:
    # Details are stored with dead letters; a hostile 8 KB URL should not make them unreadable.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def canonical_url(url: str) -> str:
    """The key an article is stored under: lower-case scheme and host, no default port, no
    fragment, no tracking parameters (utm_*, fbclid, gclid, ...). courlan, which trafilatura
    already depends on, keeps the list of trackers; on anything it cannot parse we keep the URL.
    courlan turns an xn-- host back into Unicode; httpx writes it out again as an absolute URI
    (punycode host, percent-encoded path), which is what the schemas' "format": "uri" checks;
    escapes as ``link_key`` spells them (unreserved ones decoded, the others in upper case), a
    host mapped by UTS #46 and no trailing dot on it."""
    from courlan import normalize_url

    try:
        return _same_spelling(as_uri(str(httpx.URL(_uts46(normalize_url(url, strict=True))))))
    except (ValueError, TypeError, httpx.InvalidURL, UnicodeError):
        return url


# RFC 3986 allows these raw after the authority; "%" only before two hex digits.
_NOT_URI = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]")


def as_uri(url: str) -> str:
    """An http(s) URL as an RFC 3986 URI. httpx already writes the host as punycode and encodes what
    a browser encodes, but leaves "|", "^", "[", "`" and the like raw in a path or query, as browsers
    send them; a URI may not hold them, so they are percent-encoded here (equivalent for any server
    that decodes before routing). For URLs we record (final, canonical), never for what we request."""
    parts = urlsplit(url)
    path, query, fragment = (_NOT_URI.sub(lambda m: quote(m.group(), safe=""), x) for x in parts[2:])
    return urlunsplit((parts.scheme, parts.netloc, path, query, fragment))
