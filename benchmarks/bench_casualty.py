"""Casualty figures: how often the article-level killed/injured figures are right, and how fast.

In:  ``--file F``: a JSONL file (``.jsonl`` or gzip-compressed ``.jsonl.gz``), one article per line: ``{"text": str, "gold_killed": int,
     "gold_injured": int}`` (optional ``"title"``, ``"language"``, ``"published"``). Without it, the
     project's own labelled corpus (tests/corpus/casualties/*.jsonl). Lines that are not JSON
     objects with a non-empty text and non-negative integer golds are counted as ``bad_lines`` and
     skipped; they never stop the run.
Out: a table, then one JSON object as the last line.

Each article goes through the enrich stage (language detection, lexicon, summary) exactly as in the
pipeline; the predicted figure of a category is ``figures[category]["count"]``, 0 when None.

Definitions (k = killed or injured; "pos" = over the articles whose gold for k is above zero):
    {k}_exact, {k}_exact_pos     share of articles where predicted == gold.
    {k}_within10, {k}_within10_pos
                                 share where |predicted - gold| <= 0.1 * gold (so a gold of 0 needs a
                                 prediction of 0, and below 10 it means exact).
    {k}_ge{t}_precision / _recall, t in {1, 10}: alert-threshold crossings. An article crosses
                                 when its figure is >= t. precision = both cross / predicted
                                 crosses, recall = both cross / gold crosses; null when the
                                 denominator is 0.
    false_alarm_rate             killed > 0 predicted on an article whose gold killed is 0, over
                                 those articles (injured_false_alarm_rate: the same for injured).
    {k}_exact_pos_{half}         when the articles carry an ``incident_id``: killed/injured exact on
                                 the articles with gold > 0 of each half of a split by incident
                                 (``even``/``odd``: parity of a stable hash of the id), so that a
                                 gain can be checked to hold on both halves, not fitted to one.
    docs_per_s                   enrichment (the whole enrich stage: language, casualties, places,
                                 keywords) on one core, on article-length text: the speed sample is
                                 up to --speed-docs articles of at least 1,500 characters (all
                                 articles when none is that long), evenly spread over the file;
                                 articles / CPU seconds of this single-threaded process, best of
                                 --repeat passes. speed_docs / speed_mean_chars describe the sample.
    extract_docs_per_s           trafilatura-based extraction (stages/extract.py) of the same
                                 sample, each text in a news page with the furniture real pages
                                 carry (navigation, share bars, related stories, comments, footer,
                                 scripts: what the extract stage meets), same process, same run,
                                 best of --repeat passes as for enrichment;
                                 enrich_vs_extract = docs_per_s / extract_docs_per_s (above 1:
                                 enrichment is not the bottleneck).
    extract_bare_docs_per_s      the same with the text alone in a bare page (extraction's best
                                 case, far from real pages); enrich_vs_extract_bare likewise.
    baseline_*                   a plain regex extractor in the style of GDELT's counts (a number
                                 within three words before "killed|dead|died|..." or after
                                 "killing|kills"), scored in the same run for reference.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "casualties"
THRESHOLDS = (1, 10)
SPEED_MIN_CHARS = 1500  # article length: the median real article is ~1,300 characters, a wire story 4,000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("casualty")
    g.add_argument(
        "--file", default=None, help="JSONL of {text, gold_killed, gold_injured} (default: the project's corpus)"
    )
    g.add_argument("--repeat", type=int, default=3, help="timing passes (best is reported)")
    g.add_argument("--speed-docs", type=int, default=300, help="article-length articles timed (0: no timing)")


def load(path: Path | str | None) -> tuple[list[dict], int]:
    """(articles, bad_lines) from one JSONL file, or from every *.jsonl of the corpus."""
    paths = [Path(path)] if path else sorted(CORPUS.glob("*.jsonl"))
    docs, bad = [], 0
    for p in paths:
        with gzip.open(p, "rb") if p.suffix == ".gz" else open(p, "rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    d = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    bad += 1
                    continue
                if not _valid(d):
                    bad += 1
                    continue
                docs.append(d)
    return docs, bad


def _valid(d: Any) -> bool:
    if not isinstance(d, dict) or not isinstance(d.get("text"), str) or not d["text"].strip():
        return False
    for k in ("gold_killed", "gold_injured"):
        v = d.get(k, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return False
    return True


def _article(d: dict) -> dict:
    return {
        "title": d.get("title"),
        "text": d["text"],
        "language": d.get("language"),
        "published": d.get("published"),
    }


def predict(d: dict) -> tuple[int, int]:
    from wirewatch.stages.enrich import enrich

    figures = enrich(_article(d))["figures"]
    return tuple((figures[c] or {}).get("count", 0) for c in ("killed", "injured"))  # type: ignore[return-value]


_BASE_NUM = r"(\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens|hundreds)"
_BASE_WORDS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
_BASE_KILLED = [
    re.compile(_BASE_NUM + r"(?:\s+\w+){0,3}?\s+(?:killed|dead|died|deaths|fatalities|bodies)\b", re.I),
    re.compile(r"\b(?:killing|kills|killed)\s+(?:at least\s+)?" + _BASE_NUM, re.I),
]
_BASE_INJURED = [
    re.compile(_BASE_NUM + r"(?:\s+\w+){0,3}?\s+(?:injured|wounded|hurt|injuries)\b", re.I),
    re.compile(r"\b(?:injuring|wounding|injured|wounded)\s+(?:at least\s+)?" + _BASE_NUM, re.I),
]


def _base_value(tok: str) -> int:
    t = tok.lower().replace(",", "")
    if t.isdigit():
        return int(t)
    return {"dozens": 24, "hundreds": 200}.get(t, _BASE_WORDS.get(t, 0))


def baseline(d: dict) -> tuple[int, int]:
    """GDELT-style: the largest number found next to a casualty word, any context, any language."""
    text = (d.get("title") or "") + "\n" + d["text"]
    out = []
    for pats in (_BASE_KILLED, _BASE_INJURED):
        vals = [_base_value(m.group(1)) for p in pats for m in p.finditer(text)]
        out.append(max(vals, default=0))
    return out[0], out[1]


def score(docs: list[dict], preds: list[tuple[int, int]]) -> dict:
    out: dict[str, Any] = {}
    for i, k in enumerate(("killed", "injured")):
        gold = [d.get(f"gold_{k}", 0) for d in docs]
        pred = [p[i] for p in preds]
        pairs = list(zip(gold, pred))
        pos = [(g, p) for g, p in pairs if g > 0]
        out[f"{k}_exact"] = _share(pairs, lambda g, p: g == p)
        out[f"{k}_exact_pos"] = _share(pos, lambda g, p: g == p)
        out[f"{k}_within10"] = _share(pairs, _within10)
        out[f"{k}_within10_pos"] = _share(pos, _within10)
        out[f"{k}_pos_docs"] = len(pos)
        for t in THRESHOLDS:
            both = sum(1 for g, p in pairs if g >= t and p >= t)
            pc = sum(1 for p in pred if p >= t)
            gc = sum(1 for g in gold if g >= t)
            out[f"{k}_ge{t}_precision"] = round(both / pc, 4) if pc else None
            out[f"{k}_ge{t}_recall"] = round(both / gc, 4) if gc else None
        zero = [(g, p) for g, p in pairs if g == 0]
        out["false_alarm_rate" if k == "killed" else f"{k}_false_alarm_rate"] = _share(zero, lambda g, p: p > 0)
    return out


def halves(docs: list[dict], preds: list[tuple[int, int]]) -> dict:
    """Exact scores on each half of a split by incident (stable: crc32 of the id, not Python's hash)."""
    if not docs or not all(d.get("incident_id") is not None for d in docs):
        return {}
    out: dict[str, Any] = {}
    for name, parity in (("even", 0), ("odd", 1)):
        ix = [i for i, d in enumerate(docs) if zlib.crc32(str(d["incident_id"]).encode()) % 2 == parity]
        s = score([docs[i] for i in ix], [preds[i] for i in ix])
        for k in ("killed_exact_pos", "injured_exact_pos", "killed_ge10_precision", "false_alarm_rate"):
            out[f"{k}_{name}"] = s[k]
    return out


def speed_sample(docs: list[dict], n: int) -> list[dict]:
    """Up to n article-length documents, evenly spread over the file (deterministic)."""
    long = [d for d in docs if len(d["text"]) >= SPEED_MIN_CHARS] or docs
    if n <= 0 or not long:
        return []
    step = max(1, len(long) // n)
    return long[::step][:n]


def _within10(g: int, p: int) -> bool:
    return abs(p - g) <= 0.1 * g


def _share(pairs: list[tuple[int, int]], ok: Callable[[int, int], bool]) -> float | None:
    return round(sum(1 for g, p in pairs if ok(g, p)) / len(pairs), 4) if pairs else None


def _rate(fn: Callable[[dict], Any], docs: list[dict], repeat: int) -> float:
    # CPU seconds of this process, not wall seconds: on a shared box the wall clock also counts the
    # time other processes hold the core, which moved the enrich/extract ratio by 3x between runs.
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.process_time()
        for d in docs:
            fn(d)
        best = min(best, time.process_time() - t0)
    return round(len(docs) / best, 1) if best > 0 else 0.0


def _html(d: dict, furniture: bool = True) -> str:
    """The article as the extract stage meets it: a news page with its furniture (navigation,
    share bar, related stories, comments, footer, scripts; about 25 KB around the text) or, with
    `furniture` False, a bare page holding only the text (extraction's best case)."""
    from html import escape

    paras = "".join(f"<p>{escape(p)}</p>" for p in d["text"].split("\n") if p.strip())
    title = escape(d.get("title") or "Report")
    if not furniture:
        return (
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{paras}</article></body></html>"
        )
    return _PAGE.format(title=title, paras=paras)


def _page_template() -> str:
    # Written for this benchmark: section names, link labels and comments are invented.
    sections = "News Local Politics Business Sports Weather Opinion Arts Health Science Video Photos Obituaries".split()
    nav = "".join(
        f'<li><a href="/{s.lower()}/">{s}</a><ul>'
        + "".join(f'<li><a href="/{s.lower()}/sub{i}/">{s} topic {i}</a></li>' for i in range(6))
        + "</ul></li>"
        for s in sections
    )
    share = "".join(
        f'<a class="share" href="https://share.example/{n}">Share on {n}</a>' for n in ("Mail", "Print", "Chat", "Feed")
    )
    related = "".join(
        f'<li><a href="/news/story-{i}/"><img src="/img/{i}.jpg" alt="thumbnail {i}"><span>Council weighs plan number {i} for '
        f"the riverside park and the new library wing</span></a><time>{i} hours ago</time></li>"
        for i in range(12)
    )
    comments = "".join(
        f'<div class="comment"><span class="user">reader{i}</span><p>Comment {i}: thanks for the update, '
        f"we drive past there every day and hope the neighbourhood gets more lighting soon.</p>"
        f'<a href="#reply{i}">Reply</a> <a href="#like{i}">Like</a></div>'
        for i in range(8)
    )
    footer = "".join(f'<a href="/about/{i}/">Footer link {i}</a> ' for i in range(40))
    script = "<script>" + "var cfg={" + ",".join(f"k{i}:'{i}'" for i in range(150)) + "};</script>"
    style = "<style>" + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px}}" for i in range(150)) + "</style>"
    return (
        (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | The Daily Example</title>'
            f'<meta property="og:site_name" content="The Daily Example">{style}{script}</head><body>'
            f'<header><div class="logo">The Daily Example</div><nav><ul>{nav}</ul></nav>'
            '<form class="search"><input name="q"><button>Search</button></form></header>'
            '<div class="breadcrumb"><a href="/">Home</a> &gt; <a href="/news/">News</a></div>'
            '<main><article><h1>{title}</h1><div class="byline">By Staff Writer</div>'
            f'<div class="sharebar">{share}</div>' + "{paras}" + f'<div class="sharebar">{share}</div></article>'
            f"<aside><h2>Most read</h2><ul>{related}</ul></aside>"
            f'<section class="comments"><h2>Comments</h2>{comments}</section></main>'
            f"<footer>{footer}<p>Copyright The Daily Example. All rights reserved.</p></footer>{script}</body></html>"
        )
        .replace("{", "{{")
        .replace("}", "}}")
        .replace("{{title}}", "{title}")
        .replace("{{paras}}", "{paras}")
    )


_PAGE = _page_template()


def run(args: argparse.Namespace) -> dict:
    from wirewatch.errors import Rejected
    from wirewatch.stages.extract import extract

    docs, bad = load(getattr(args, "file", None))
    repeat = getattr(args, "repeat", 3)
    preds = [predict(d) for d in docs]
    result: dict[str, Any] = {"docs": len(docs), "bad_lines": bad, **score(docs, preds)}
    base = score(docs, [baseline(d) for d in docs])
    for k in ("killed_exact", "killed_exact_pos", "injured_exact", "injured_exact_pos"):
        result[f"baseline_{k}"] = base[k]

    result.update(halves(docs, preds))

    sample = speed_sample(docs, getattr(args, "speed_docs", 300))
    result["speed_docs"] = len(sample)
    result["speed_mean_chars"] = round(sum(len(d["text"]) for d in sample) / len(sample)) if sample else None
    if sample:
        from wirewatch.stages.enrich import enrich

        result["docs_per_s"] = _rate(lambda d: enrich(_article(d)), sample, repeat)
        for key, furniture in (("extract_docs_per_s", True), ("extract_bare_docs_per_s", False)):
            pages = [_html(d, furniture) for d in sample]

            def _extract(i: int, pages: list[str] = pages) -> None:
                with contextlib.suppress(Rejected):
                    extract(pages[i], f"https://bench.example/a/{i}", min_length=1)

            result[key] = _rate(lambda x: _extract(x["i"]), [{"i": i} for i in range(len(pages))], repeat)
        result["enrich_vs_extract"] = (
            round(result["docs_per_s"] / result["extract_docs_per_s"], 2) if result["extract_docs_per_s"] else None
        )
        result["enrich_vs_extract_bare"] = (
            round(result["docs_per_s"] / result["extract_bare_docs_per_s"], 2)
            if result["extract_bare_docs_per_s"]
            else None
        )
    else:
        for k in (
            "docs_per_s",
            "extract_docs_per_s",
            "enrich_vs_extract",
            "extract_bare_docs_per_s",
            "enrich_vs_extract_bare",
        ):
            result[k] = None

    by_lang: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        by_lang.setdefault(d.get("language") or "?", []).append(i)
    if len(by_lang) > 1:
        for lang, ix in sorted(by_lang.items()):
            s = score([docs[i] for i in ix], [preds[i] for i in ix])
            result[f"{lang}_killed_exact_pos"] = s["killed_exact_pos"]
            result[f"{lang}_injured_exact_pos"] = s["injured_exact_pos"]
    _table(result)
    return result


def _table(r: dict) -> None:
    print(f"{'metric':<28}{'wirewatch':>12}{'baseline':>12}")
    for k in ("killed_exact", "killed_exact_pos", "injured_exact", "injured_exact_pos"):
        print(f"{k:<28}{_fmt(r.get(k)):>12}{_fmt(r.get('baseline_' + k)):>12}")
    for k in (
        "killed_within10",
        "killed_within10_pos",
        "injured_within10",
        "injured_within10_pos",
        "killed_ge1_precision",
        "killed_ge1_recall",
        "killed_ge10_precision",
        "killed_ge10_recall",
        "false_alarm_rate",
        "injured_ge1_precision",
        "injured_ge1_recall",
        "injured_ge10_precision",
        "injured_false_alarm_rate",
        "killed_exact_pos_even",
        "killed_exact_pos_odd",
        "injured_exact_pos_even",
        "injured_exact_pos_odd",
        "speed_docs",
        "speed_mean_chars",
        "docs_per_s",
        "extract_docs_per_s",
        "enrich_vs_extract",
        "extract_bare_docs_per_s",
        "enrich_vs_extract_bare",
        "docs",
        "bad_lines",
    ):
        print(f"{k:<28}{_fmt(r.get(k)):>12}")


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) and v <= 1 else str(v))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_casualty", description=__doc__)
    add_arguments(parser)
    print(orjson.dumps(run(parser.parse_args(argv))).decode())


if __name__ == "__main__":
    main()
