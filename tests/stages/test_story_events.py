"""Quality gate of story grouping on real events: the development half of the GVA articles (each
tied to its incident), fed through enrich and the route agent's core as benchmarks/bench_stories.py
does. Its path from WIREWATCH_STORY_EVENTS or ../shared/data/casualty-gva-dev/articles.jsonl.gz;
skipped where it is absent. Floors may only rise; the goals of issue 17 stand beside them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.bench_stories import quality

ROOT = Path(__file__).resolve().parents[2]
EVENTS = Path(
    os.environ.get("WIREWATCH_STORY_EVENTS", ROOT.parent / "shared" / "data" / "casualty-gva-dev" / "articles.jsonl.gz")
)

# Measured 0.985 / 0.962 / 0.166 / 23 when first set; 0.980 / 1.000 / 0.109 / 29 with people named in
# both texts as evidence; 0.980 / 1.003 / 0.104 / 27 with the story's proper nouns as words of the
# article's headline; 0.980 / 1.006 / 0.100 / 28 with the story's people found anywhere in a late
# report's text (same toll and city); 0.979 / 1.007 / 0.097 / 29 with the same toll, the city in
# both leads and the day the leads state (halves: even 0.995 / 0.089 / 4, odd 0.987 / 0.108 / 10); 0.979 / 1.007 / 0.096 / 29 with
# a follow-up naming that day as a date (halves: 0.995 / 0.087 / 4, 0.987 / 0.106 / 10); 0.978 / 1.014 /
# 0.086 / 29 with one person and the same stated day (or city) in the window, and after it the day
# named where the headlines' name or the city says it happened, one person with the city and the day,
# or a rare toll in the city (halves from one run, precision / repeat rate: even 0.981 / 0.077, odd
# 0.975 / 0.093; before: 0.981 / 0.087, 0.976 / 0.103); 0.978 / 1.015 / 0.084 / 29 with the outlet
# standing for the city (halves 0.981 / 0.076, 0.975 / 0.091); 0.978 / 1.017 / 0.082 / 28 with a
# person the late report names again and again in the story's city, and credits and activists not
# read as people (halves 0.981 / 0.075, 0.976 / 0.087); 0.978 / 1.018 / 0.080 / 29 with follow-ups
# three years after the event instead of two (halves 0.981 / 0.073, 0.975 / 0.086); 0.983 / 1.022 /
# 0.077 / 26 with places from datelines and "City, ST" (enrich, 53d484f); 0.982 / 1.024 / 0.073 / 27
# with a person's age told in both (halves 0.985 / 0.067, 0.979 / 0.078); 0.980 / 1.026 / 0.070 / 28
# with a place one headline names no conflict (halves 0.985 / 0.064, 0.977 / 0.075); 0.980 / 1.027 /
# 0.068 / 28 with one person, the same toll and the city making a follow-up, hospitals ("Our Lady")
# and roads ("... Pike") not people (halves 0.984 / 0.062, 0.977 / 0.072); 0.980 / 1.028 / 0.066 / 28
# with a toll that rose in the city on the same stated day (halves 0.984 / 0.060, 0.977 / 0.071); 0.980 /
# 1.032 / 0.061 / 28 with an age told by another outlet with the toll in the city, and the toll in a
# small town (halves 0.984 / 0.055, 0.977 / 0.066); 0.981 / 1.033 / 0.060 / 27 with states telling
# events apart only where a lead names them, and two people named in both outweighing a conflict of
# places (halves 0.985 / 0.055, 0.977 / 0.064); 0.981 / 1.035 / 0.057 / 27 with a child's age on the
# same stated day (halves 0.985 / 0.055, 0.977 / 0.059: the even half had no such repeat left);
# 0.981 / 1.037 / 0.054 / 27 with a child's age and the day named making a follow-up, an age with the
# toll in the city for 14 days after the window, and "Washington Park" not Washington (halves 0.985
# / 0.054, 0.977 / 0.054); 0.981 / 1.038 / 0.054 / 27 with the same toll and day where one lead
# names no city and its text names the other's (halves 0.985 / 0.053, 0.977 / 0.054); 0.981 / 1.038 /
# 0.053 / 27 with two ages told on the same stated day (halves 0.985 / 0.052, 0.977 / 0.054); 0.981 /
# 1.039 / 0.051 / 27 with an age and the same people counted otherwise (a wounded victim who died)
# in the city both leads name, or after the window with the day named (halves 0.985 / 0.051, 0.977 /
# 0.052); 0.981 / 1.040 / 0.0497 / 27 with a person spelt otherwise ("Erik", "Erick"; a possessive,
# an apostrophe) as the same person (halves 0.985 / 0.049, 0.977 / 0.050); 0.981 / 1.041 / 0.0489 /
# 27 with a city one lead names that the other's headline names as a shared place (halves 0.985 /
# 0.048, 0.977 / 0.050), the same with foreign cities in US-placed articles read as US towns; 0.980 /
# 1.0396 / 0.0489 / 29 once enrich read injuries it missed (session 17: 59 more articles alert, each
# with someone hurt; on the 2,352 articles that alerted before, 0.981 / 1.041 / 0.0485 / 27, so the
# floor and ceiling moved for the population, not for the grouping); 0.980 / 1.038 / 0.0494 / 30 once
# enrich read one hurt by his own shot, a pronoun hurt, "taken to a hospital" and "in critical condition"
# (session 18: 97 more articles alert, mostly a child shot, reported hurt and then dead; on the 2,411
# that alerted before, 0.980 / 1.040 / 0.0477 / 29 with the grouping of that round: ages in words, a
# child's age and the same people counted otherwise after the window, the first report's day where no
# lead states one; halves 0.985 / 0.0504, 0.976 / 0.0486). Goals: precision >= 0.97, F1 >=
# 0.95 of the ceiling, repeat "new" alerts <= 0.05 (reached on this half; the other half is measured apart).
FLOORS = {"b3_precision": 0.98, "b3_f1_of_ceiling": 1.038}
CEILINGS = {"repeat_new_alert_rate": 0.0495, "merged_incidents": 30}


@pytest.mark.skipif(not EVENTS.exists(), reason=f"labelled events not at {EVENTS}")
def test_stories_on_real_events_meet_their_floors() -> None:
    q = quality(EVENTS)
    assert q["alerting"] > 1000, q
    for k, floor in FLOORS.items():
        assert q[k] >= floor, (k, q)
    for k, ceiling in CEILINGS.items():
        assert q[k] <= ceiling, (k, q)
