"""Where the extract stage's word-F1 losses come from, by the kind of page element that holds the words.

``python -m benchmarks.extract_errors --corpus DIR``, where DIR is an extraction corpus (html/ +
ground-truth.json, stages/extract_score.py; default ``../shared/data/extraction-wcxb-dev``, skipped
where absent). Every article page goes through ``stages.extract.extract``; the page's visible text
blocks (the text an element holds itself, outside its block children) are read in order and each
is put in a category by its element and the classes of its nearest ancestors: headings, list items,
tables, figure captions and credits, blockquotes, bylines and datelines, standfirsts and summaries,
"related"/promotion/newsletter/share blocks, comments, navigation and sidebars, footers, code, plain
paragraphs, other text. A block whose words are in the ground truth and not in the body is *missed*;
one in the body and not in the ground truth is *extra* (both by its words' sequence).

Per category, the word-F1 points it costs: on each page, the F1 gained by adding its missed words to
the body (or taking its extra words out), summed over the pages and divided by the number of
articles, so the rows add up to about the corpus's word-F1 loss. Pages the stage refused count apart.

Printed: the table, ranked by points lost, then one JSON line. Only categories and counts: no text
of the corpus.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import lxml.html

from wirewatch.errors import WirewatchError
from wirewatch.stages import extract as extract_core
from wirewatch.stages.extract_score import Page, load_corpus

DEFAULT_CORPUS = "../shared/data/extraction-wcxb-dev"
_TOKENS = re.compile(r"\w+")
_BLOCKS = {
    "p", "div", "li", "dd", "dt", "td", "th", "caption", "figcaption", "blockquote", "pre", "section",
    "article", "aside", "header", "footer", "nav", "main", "ul", "ol", "table", "tr", "form", "address",
    "h1", "h2", "h3", "h4", "h5", "h6", "summary", "details", "time",
}  # fmt: skip
_HIDDEN = {"script", "style", "noscript", "template", "head", "title"}
_COMMENTS = re.compile(r"(^|[\s_-])(comments?|disqus|respond|replies)($|[\s_-])")
_PROMO = re.compile(
    r"related|recommend|read-?more|more-(stories|posts|articles)|popular|trending|teaser|promo|newsletter"
    r"|subscribe|signup|share|social|cta"
)
_NAV = re.compile(r"(^|[\s_-])(nav|navbar|menu|breadcrumbs?|sidebar)($|[\s_-])")
_BYLINE = re.compile(r"byline|author|dateline|(^|[\s_-])(date|meta|posted)($|[\s_-])")
_STANDFIRST = re.compile(r"standfirst|summary|(^|[\s_-])dek($|[\s_-])|subtitle|subhead|lede|excerpt|intro|description")


def category(chain: list[Any]) -> str:
    """The category of a text block whose element is ``chain[0]`` (then its ancestors, nearest first)."""
    tags = [e.tag if isinstance(e.tag, str) else "" for e in chain]
    near = " ".join(_names(e) for e in chain[:4])
    if _COMMENTS.search(" ".join(_names(e) for e in chain[:10])):
        return "comments"
    if _PROMO.search(near):
        return "related/promo/newsletter/share"
    if "footer" in tags[:6] or "footer" in near:
        return "footer"
    if "nav" in tags[:6] or "aside" in tags[:6] or _NAV.search(near):
        return "nav/aside/sidebar"
    if "figcaption" in tags[:4] or "figure" in tags[:4] or re.search(r"caption|credit", near):
        return "figure/caption/credit"
    if "time" in tags[:2] or "address" in tags[:2] or _BYLINE.search(near):
        return "byline/date/meta"
    if _STANDFIRST.search(near):
        return "standfirst/summary"
    first = tags[0]
    if first == "h1":
        return "h1"
    if first in ("h2", "h3", "h4", "h5", "h6"):
        return "h2-h6"
    if "blockquote" in tags[:4]:
        return "blockquote"
    if first in ("td", "th", "caption") or "table" in tags[:4]:
        return "table"
    if first in ("li", "dd", "dt"):
        return "list item"
    if first == "pre" or "code" in tags[:2] or "pre" in tags[:3]:
        return "pre/code"
    if first == "p":
        return "p (plain paragraph)"
    if "header" in tags[:6]:
        return "header"
    return "div/other text"


def _names(element: Any) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".lower()


def _words(text: str | None) -> list[str]:
    return [t.lower() for t in _TOKENS.findall(text or "")]


def blocks(html: str) -> list[tuple[str, list[str]]]:
    """The page's visible text blocks in document order: (category, words)."""
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    texts: dict[Any, list[str]] = defaultdict(list)

    def owner(element: Any) -> Any:
        while element is not None and (not isinstance(element.tag, str) or element.tag not in _BLOCKS):
            element = element.getparent()
        return element

    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in _HIDDEN:
            continue
        if element.text and element.text.strip():
            block = owner(element)
            if block is not None:
                texts[block].append(element.text)
        if element.tail and element.tail.strip():
            block = owner(element.getparent())
            if block is not None:
                texts[block].append(element.tail)
    found = []
    for block, parts in texts.items():  # dicts keep insertion order: the document's
        chain = [block, *block.iterancestors()]
        if any(isinstance(a.tag, str) and a.tag in _HIDDEN for a in chain):
            continue
        found.append((category(chain), _words(" ".join(parts))))
    return found


def _f1(got: Counter[str], want: Counter[str]) -> float:
    tp = sum((got & want).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(got.values()), tp / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def analyse(pages: list[Page], bodies: list[str]) -> dict[str, Any]:
    """Points lost, words and pages per (category, side) over article ``pages`` and the stage's ``bodies``."""
    points: Counter[tuple[str, str]] = Counter()
    words: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], int] = Counter()
    refused = 0.0
    for page, body in zip(pages, bodies, strict=True):
        want, got = Counter(_words(page.truth)), Counter(_words(body))
        if not got:
            refused += 1.0
            continue
        base = _f1(got, want)
        truth_seq, body_seq = f" {' '.join(_words(page.truth))} ", f" {' '.join(_words(body))} "
        by_side: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        seen: set[str] = set()
        for kind, tokens in blocks(page.html):
            seq = f" {' '.join(tokens)} "
            if not tokens or seq in seen:
                continue
            seen.add(seq)
            in_truth, in_body = seq in truth_seq, seq in body_seq
            if in_truth and not in_body:
                by_side[(kind, "missed")].update(tokens)
            elif in_body and not in_truth:
                by_side[(kind, "extra")].update(tokens)
        missing, extra = want - got, got - want
        for (kind, side), counted in by_side.items():
            counted &= missing if side == "missed" else extra
            if not counted:
                continue
            fixed = got + counted if side == "missed" else got - counted
            points[(kind, side)] += _f1(fixed, want) - base
            words[(kind, side)] += sum(counted.values())
            where[(kind, side)] += 1
    n = max(1, len(pages))
    rows = [
        {
            "category": kind,
            "side": side,
            "points": round(lost / n, 4),
            "words": words[(kind, side)],
            "pages": where[(kind, side)],
        }
        for (kind, side), lost in points.most_common()
    ]
    return {
        "articles": len(pages),
        "refused_points": round(refused / n, 4),
        "refused_pages": int(refused),
        "rows": rows,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Path(args.corpus)
    if not (corpus / "ground-truth.json").exists():
        return {"skipped": f"no extraction corpus at {corpus}"}
    pages = [p for p in load_corpus(corpus) if p.is_article]
    bodies = []
    for page in pages:
        try:
            bodies.append(extract_core.extract(page.html, page.url).text)
        except WirewatchError:
            bodies.append("")
    return analyse(pages, bodies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.extract_errors", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", default=DEFAULT_CORPUS, help=f"extraction corpus directory (default {DEFAULT_CORPUS})"
    )
    result = run(parser.parse_args(argv))
    if "rows" in result:
        print(f"{'category':<32}{'side':<8}{'points':>8}{'words':>8}{'pages':>7}")
        for row in result["rows"]:
            print(f"{row['category']:<32}{row['side']:<8}{row['points']:>8.4f}{row['words']:>8}{row['pages']:>7}")
        print(f"refused pages {result['refused_pages']}, points {result['refused_points']:.4f}")
    print(json.dumps(result), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
