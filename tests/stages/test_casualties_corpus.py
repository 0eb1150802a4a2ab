"""Quality gate: the casualty figures on the project's labelled corpus never fall below the floors.

tests/corpus/casualties/<language>.jsonl holds sentences and short articles we wrote, each with its
gold killed/injured figures; articles_<language>.jsonl full multi-paragraph news articles written to
the labelling guide in that folder's README. floors.json: the least score allowed per file. Raise a
floor when the extractor improves; never lower one. The scorer is benchmarks/bench_casualty.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.bench_casualty import CORPUS, load, predict, score

FLOORS = json.loads((CORPUS / "floors.json").read_text())
CORPORA = sorted(k for k in FLOORS if not k.startswith("_"))
# Templated sentence files are cheap to make large; hand-written full articles are fewer and longer.
# English article files hold 60 or more; the French and Arabic ones (a first blind round each) 30.
MIN_DOCS = {"articles": 60}
MIN_DOCS_BY_LANGUAGE = {("articles", "fr"): 30, ("articles", "ar"): 30}


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_meets_floors(name: str) -> None:
    # "en", "articles_en", "articles_en_2" (a later, blind-written batch of the same kind).
    kind, language = re.fullmatch(r"(?:([a-z]+)_)?([a-z]{2})(?:_\d+)?", name).groups()
    docs, bad = load(CORPUS / f"{name}.jsonl")
    least = MIN_DOCS_BY_LANGUAGE.get((kind, language), MIN_DOCS.get(kind or "", 100))
    assert bad == 0 and len(docs) >= least
    assert {d["language"] for d in docs} == {language}
    result = score(docs, [predict(d) for d in docs])
    below = {k: (result[k], floor) for k, floor in FLOORS[name].items() if result[k] < floor}
    assert not below, f"{name}: score below floor {below}"


def test_every_corpus_file_has_floors() -> None:
    assert sorted(p.stem for p in CORPUS.glob("*.jsonl")) == CORPORA


def test_scorer_counts_bad_lines_and_defines_within_and_thresholds(tmp_path: Path) -> None:
    f = tmp_path / "gold.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"text": "12 people were killed and 3 injured.", "gold_killed": 12, "gold_injured": 3}),
                json.dumps({"text": "Nothing happened.", "gold_killed": 0, "gold_injured": 0}),
                json.dumps({"text": "At least 100 people died.", "gold_killed": 105, "gold_injured": 0}),
                "not json",
                json.dumps({"text": "", "gold_killed": 1, "gold_injured": 0}),
                json.dumps({"text": "x", "gold_killed": -1, "gold_injured": 0}),
                json.dumps(["a list"]),
                "",
            ]
        )
    )
    docs, bad = load(f)
    assert (len(docs), bad) == (3, 4)
    r = score(docs, [predict(d) for d in docs])
    assert r["killed_exact"] == round(2 / 3, 4) and r["killed_exact_pos"] == 0.5
    assert r["killed_within10_pos"] == 1.0  # 100 is within 10% of 105
    assert r["killed_ge1_precision"] == 1.0 and r["killed_ge1_recall"] == 1.0
    assert r["killed_ge10_recall"] == 1.0
    assert r["injured_exact_pos"] == 1.0
