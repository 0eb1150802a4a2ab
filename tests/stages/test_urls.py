"""URL rules: shared links in, absolute URLs and storage keys out."""

import pytest

from wirewatch.errors import PermanentError
from wirewatch.stages.urls import canonical_url, normalise_link


@pytest.mark.parametrize(
    "given, expected",
    [
        ("arab.news/jtxzg", "https://arab.news/jtxzg"),
        ("//cdn.example/x", "https://cdn.example/x"),
        ("http://a.example/p", "http://a.example/p"),
    ],
)
def test_normalise_link(given, expected):
    assert normalise_link(given) == expected


@pytest.mark.parametrize("given", ["ftp://a.example/x", "javascript:alert(1)", "   "])
def test_normalise_link_refuses(given):
    with pytest.raises(PermanentError):
        normalise_link(given)


@pytest.mark.parametrize(
    "given, expected",
    [
        (
            "HTTPS://News.Example.org:443/a.html?utm_source=rss&utm_medium=x&id=3#top",
            "https://news.example.org/a.html?id=3",
        ),
        ("http://x.example/p?fbclid=abc&gclid=1", "http://x.example/p"),
    ],
)
def test_canonical_url_drops_tracking_case_port_fragment(given, expected):
    assert canonical_url(given) == expected


@pytest.mark.parametrize("given", ["http://xn--zz.example/a", "http://xn--.example/"])
def test_an_invalid_punycode_host_is_bad_url_not_a_bug(given):
    from wirewatch.stages.urls import check_http_url

    with pytest.raises(PermanentError) as e:
        check_http_url(given)
    assert e.value.reason == "bad_url"


def test_a_valid_punycode_or_unicode_host_is_fetched_as_ascii():
    from wirewatch.stages.urls import check_http_url

    assert check_http_url("http://xn--bcher-kva.example/x") == "http://xn--bcher-kva.example/x"
    assert check_http_url("https://bücher.example/x") == "https://xn--bcher-kva.example/x"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://xn--bcher-kva.example/%C3%BCber",  # punycode and percent-encoding
        "bücher.example/über",  # as people type it
        "https://BÜCHER.example/über",
        "https://xn--bcher-kva.example/%c3%bcber",  # lower-case escapes
        "https://xn--bcher-kva.example./%C3%BCber",  # the root zone's dot
        "HTTPS://XN--BCHER-KVA.EXAMPLE:443/%C3%BCber#kapitel-2",
    ],
)
def test_a_link_in_unicode_or_punycode_is_one_link_and_one_article(spelling):
    from wirewatch.stages.urls import link_key

    unicode_link = "https://bücher.example/über"
    assert link_key(spelling) == link_key(unicode_link) == "https://xn--bcher-kva.example/%C3%BCber"
    assert canonical_url(normalise_link(spelling)) == canonical_url(normalise_link(unicode_link))


def test_a_link_that_is_no_http_url_keys_as_submitted():
    from wirewatch.stages.urls import link_key

    assert link_key(" ftp://a.example/x ") == "ftp://a.example/x"
    assert link_key("http://xn--zz.example/a") == "http://xn--zz.example/a"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://caf\u00e9.example/menu",  # composed: e-acute is one code point
        "https://cafe\u0301.example/menu",  # decomposed: e, then a combining acute accent
        "https://CAFE\u0301.example/menu",
        "https://xn--caf-dma.example/menu",
        "cafe\u0301.example/menu",  # as people type it, no scheme
    ],
)
def test_a_host_with_combining_marks_is_the_same_host_composed(spelling):
    from wirewatch.stages.urls import check_http_url, link_key

    assert link_key(spelling) == "https://xn--caf-dma.example/menu"
    assert check_http_url(normalise_link(spelling)) == "https://xn--caf-dma.example/menu"  # fetched, not bad_url
    assert canonical_url(spelling if "://" in spelling else "https://" + spelling) == "https://xn--caf-dma.example/menu"


def test_a_host_uts46_cannot_map_is_still_bad_url():
    from wirewatch.stages.urls import check_http_url

    for url in ("https://caf\u00e9..example/", "https://\u0301.example/"):  # an empty label; a lone mark
        with pytest.raises(PermanentError) as e:
            check_http_url(url)
        assert e.value.reason == "bad_url"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://shop.example/~ana/Notes-2024_v1.html",
        "https://shop.example/%7Eana/Notes-2024_v1.html",  # RFC 3986 6.2.2.2: unreserved, escaped
        "https://shop.example/%7eana/%4Eotes%2D2024%5Fv1%2Ehtml",
    ],
)
def test_an_escaped_unreserved_character_is_the_character(spelling):
    from wirewatch.stages.urls import link_key

    assert link_key(spelling) == "https://shop.example/~ana/Notes-2024_v1.html"
    assert canonical_url(spelling) == "https://shop.example/~ana/Notes-2024_v1.html"


def test_reserved_escapes_and_dot_segments_stay_escaped():
    """A reserved character escaped means data, not a delimiter ("a%2Fb" is one segment, "a/b" two),
    and a segment escaped as ".." decoded would climb a level: both keep their escapes."""
    from wirewatch.stages.urls import link_key

    assert link_key("https://s.example/a%2fb%3fc%23d%25") == "https://s.example/a%2Fb%3Fc%23d%25"
    assert link_key("https://s.example/a%2Fb") != link_key("https://s.example/a/b")
    assert link_key("https://s.example/x/%2e%2E/y/%2E/z%2Ehtml") == "https://s.example/x/%2E%2E/y/%2E/z.html"
    assert link_key("https://s.example/q?k=%7e%2B&l=%41") == "https://s.example/q?k=~%2B&l=A"
    assert link_key("https://s.example/q?") == "https://s.example/q?"  # an empty query is not dropped
