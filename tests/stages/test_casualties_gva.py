"""Quality gate on real news: the casualty figures on the GVA development half never slip back.

The set (2,708 US local news articles with Gun Violence Archive counts, see docs/benchmarks.md "Casualty
figures on real news") is not in the repository: its path comes from WIREWATCH_CASUALTY_CORPUS or
../shared/data/casualty-gva-dev/articles.jsonl.gz beside the clone, and the test is skipped where it
is absent. Floors (tests/corpus/casualties/gva_floors.json) are the figures measured when they were
set, and may only rise; a ceiling holds the false-alarm rate. The scorer is benchmarks/bench_casualty.py's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.bench_casualty import CORPUS, halves, load, predict, score

ROOT = Path(__file__).resolve().parents[2]
DEV = Path(
    os.environ.get(
        "WIREWATCH_CASUALTY_CORPUS", ROOT.parent / "shared" / "data" / "casualty-gva-dev" / "articles.jsonl.gz"
    )
)
GATE = json.loads((CORPUS / "gva_floors.json").read_text())


@pytest.mark.skipif(not DEV.is_file(), reason=f"GVA development half not at {DEV}")
def test_gva_development_half_meets_its_floors() -> None:
    docs, bad = load(DEV)
    assert bad == 0 and len(docs) >= 2000
    preds = [predict(d) for d in docs]
    result = {**score(docs, preds), **halves(docs, preds)}
    below = {k: (result[k], v) for k, v in GATE["floors"].items() if result[k] is None or result[k] < v}
    above = {k: (result[k], v) for k, v in GATE["ceilings"].items() if result[k] is None or result[k] > v}
    assert not below and not above, f"below floor {below}, above ceiling {above}"
