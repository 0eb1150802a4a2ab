"""stages.extract_html: the same tree and the same element classes as trafilatura's loader, looked up in C."""

from __future__ import annotations

import re
from copy import copy, deepcopy

import lxml.html
import pytest
import trafilatura
from lxml import etree

from wirewatch.stages import extract_html

PAGES = {
    "article": "<!DOCTYPE html><html lang='en'><head><title>Harbour wall gives way</title></head><body>"
    "<article><h1>Harbour wall gives way</h1><p>The old harbour wall gave way in the night.</p>"
    "<!-- a comment --><p>Nobody was <b>hurt</b>, the port authority said.</p></article>"
    "<form action='/s'><label>Search</label><input name='q'><select><option>all</option></select>"
    "<textarea></textarea></form></body></html>",
    "doctype on the first line": "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'x'><html><body><p>Tide tables "
    "for the week.</p></body></html>",
    "self-closing html": "<html lang='en'/>\n<body><p>A short notice about road works.</p></body>",
    "encoding declaration": "<?xml version='1.0' encoding='utf-8'?><html><body><p>Ferry times.</p></body></html>",
    "invalid characters": "<html><body><p>Gale\x0b warning\x01 for the coast.</p></body></html>",
    "non-characters": "<html><body><p>Gale\ufffe warning\uffff for the coast, l\u00e9g\u00e8re.</p></body></html>",
    "no markup": "just a line of plain text, no markup at all",
    "fragment": "<p>one paragraph on its own</p>",
    "two fragments": "<p>one</p><div>two</div>",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_tree_is_trafilaturas(name: str) -> None:
    ours, theirs = extract_html.load_html(PAGES[name]), trafilatura.load_html(PAGES[name])
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_every_node_gets_the_class_lxml_html_gives_it() -> None:
    ours, theirs = extract_html.load_html(PAGES["article"]), trafilatura.load_html(PAGES["article"])
    assert ours is not None and theirs is not None
    classes = [(e.tag, type(e)) for e in ours.iter()]
    assert classes == [(e.tag, type(e)) for e in theirs.iter()]
    assert {cls for _, cls in classes} >= {lxml.html.FormElement, lxml.html.InputElement, lxml.html.HtmlElement}
    for copied in (copy(ours), deepcopy(ours)):  # trafilatura's passes work on copies
        assert [(e.tag, type(e)) for e in copied.iter()] == classes
    made = etree.SubElement(ours.find(".//article"), "form")  # an element added later, as trafilatura does
    assert type(made) is lxml.html.FormElement


def _owners_by_walk(tree: lxml.html.HtmlElement, pattern: re.Pattern[str]) -> list[lxml.html.HtmlElement]:
    """What ``Names.owners`` stands for: a walk of every element, testing its class and id in Python."""
    return [
        el
        for el in tree.iter()
        if isinstance(el.tag, str)
        and (pattern.search((el.get("class") or "").lower()) or pattern.search((el.get("id") or "").lower()))
    ]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_names_owners_are_those_a_walk_finds(name: str) -> None:
    page = (
        PAGES[name].replace("<p>", "<p class='Lead story-BOX'>").replace("<body>", "<body id='Ba İİİİİİİİİİ box-main'>")
    )
    tree = extract_html.load_html(page)
    if tree is None:
        return
    names = extract_html.page_names(tree)
    for pattern in (re.compile("box"), re.compile("lead|main"), re.compile("ba"), re.compile("nothing")):
        assert names.owners(pattern) == _owners_by_walk(tree, pattern)
    assert names.whole_document == (tree.getparent() is None)


def test_the_repair_is_trafilaturas_whatever_the_page_holds():
    # extract_html._repaired skips trafilatura's invalid-character regex on pages without such a
    # character and does the rest of repair_faulty_html itself: the same text on every kind of page.
    pages = [
        "<html><body><p>plain</p></body></html>",
        "<!DOCTYPE html>\n<html><body><p>doctype</p></body></html>",
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">\n<html lang="en"/>\n<body><p>x</p></body>',
        "<html/>\n<body><p>self-closing root</p></body>",
        "<html><body><p>a\x00b\x08c\x0bd\x1fe\tf\ng\rh</p></body></html>",
        "<html><body><p>non-characters \ufffe and \uffff here</p></body></html>",
        "<html><body><p>accents é ü 中文 and a surrogate-free emoji 🙂</p></body></html>",
        "",
    ]
    for page in pages:
        beginning = page[:50].lower()
        assert extract_html._repaired(page, beginning) == trafilatura.utils.repair_faulty_html(page, beginning), page


# A page as a React server streams it: the shell with the story's first paragraphs and, where the
# rest belongs, a Suspense boundary showing a loading notice; the rest arrives at the end of <body>
# in hidden segments that the page's script moves into place (one of them with a placeholder of its
# own, filled by a later segment).
STREAMED = (
    "<html><head><title>Harbour</title></head><body><main><article class='story'><h1>Harbour wall gives way</h1>"
    "<p>The old harbour wall gave way in the night after a week of storms along the coast.</p>"
    '<!--$?--><template id="B:0"></template><div>Loading paragraph...</div><!--/$-->'
    "<p>The harbour master said repairs would take the rest of the winter.</p>"
    '<!--$?--><template id="B:1"></template><!--/$--></article></main>'
    '<div hidden id="S:0"><p>Fishing boats were moved to the river mouth before the tide turned.</p>'
    '<template id="P:2"></template></div><script>$RC("B:0","S:0")</script>'
    '<div hidden id="S:2"><p>The council will meet on Friday to discuss the cost.</p></div>'
    '<div hidden id="S:1"><nav class="site-menu"><a href="/">Home</a></nav></div><script>$RC("B:1","S:1")</script>'
    "</body></html>"
)


def test_streamed_segments_go_where_the_pages_script_puts_them():
    html, boundaries = extract_html.streamed_in_place(STREAMED)
    assert boundaries == {"S:0"}  # B:1 shows no notice: its segment stays as sent
    assert "Loading paragraph" not in html
    tree = extract_html.load_html(html)
    extract_html.place_streamed_segments(tree, boundaries)
    story = tree.find(".//article")
    assert [" ".join(p.text_content().split()) for p in story.iter("p")] == [
        "The old harbour wall gave way in the night after a week of storms along the coast.",
        "Fishing boats were moved to the river mouth before the tide turned.",
        "The council will meet on Friday to discuss the cost.",
        "The harbour master said repairs would take the rest of the winter.",
    ]
    assert story.find(".//template") is not None  # B:1, as sent
    assert tree.find(".//div[@id='S:1']").get("hidden") is not None


def test_a_page_that_does_not_stream_is_read_as_sent():
    page = "<html><body><template id='B:0'></template><p>A template of the page's own.</p></body></html>"
    assert extract_html.streamed_in_place(page) == (page, set())
    many = "<html><body>" + '<template id="B:1"></template><div>Loading...</div><!--/$-->' * 500 + "</body></html>"
    assert extract_html.streamed_in_place(many) == (many, set())  # no page to render: left alone


_NOTICE = '<!--$?--><template id="B:0"></template><div>Loading paragraph...</div><!--/$-->'


def _placed(segments: str) -> lxml.html.HtmlElement:
    # a story whose boundary shows a loading notice, then ``segments`` as a server streams them
    html, boundaries = extract_html.streamed_in_place(
        f"<html><body><article>{_NOTICE}</article>{segments}</body></html>"
    )
    tree = extract_html.load_html(html)
    extract_html.place_streamed_segments(tree, boundaries)
    return tree


def test_a_page_of_thousands_of_streamed_placeholders_is_read_as_sent():
    flood = "".join(
        f'<template id="P:{i}"></template><div hidden id="S:{i}"><p>part {i}</p></div>' for i in range(1, 5000)
    )
    tree = _placed(f"<div hidden id='S:0'><p>Rest.</p></div>{flood}")
    assert tree.find(".//div[@id='S:0']").get("hidden") is not None


def test_segments_nested_deeper_than_a_page_nests_them_stay_where_they_were_sent():
    # each segment holds the placeholder of the one sent before it: every round of placing finds
    # one more level, and the rounds stop at MAX_STREAMED_ROUNDS
    chain = "".join(
        f'<div hidden id="S:{i}"><p>part {i}</p><template id="P:{i - 1}"></template></div>' for i in range(2, 60)
    )
    tree = _placed(
        f"<div hidden id='S:0'><template id='P:59'></template></div><div hidden id='S:1'><p>part 1</p></div>{chain}"
    )
    assert tree.find(".//div[@id='S:0']").get("hidden") is None  # the first rounds' work is done
    assert tree.find(".//div[@id='S:1']").get("hidden") is not None  # the deepest is left as sent
