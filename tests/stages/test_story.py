"""Story matching (stages/story.py): which articles report the same event; pure, no storage."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.harness.ten_outlets import OTHER_PLACES, OTHERS, PLACES, RISING, SAME_TOLL, TEN, Report, article_text
from wirewatch.stages import story, story_index, story_words
from wirewatch.stages.enrich import enrich

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((ROOT / "schemas" / "examples" / "article.json").read_text())


def enriched_of(r: Report, places: list | None = None, text: str | None = None) -> dict:
    url = f"https://{r.slug}.example/news/{r.slug}.html"
    article = dict(
        BASE,
        title=r.title,
        text=text or article_text(r),
        sitename=r.sitename,
        published=r.published,
        canonical_url=url,
        url=url,
        final_url=url,
        fetched_at=r.published.replace("+00:00", "Z"),
        link_id=f"link-{r.slug}",
    )
    e = enrich(article)
    e["places"] = places if places is not None else (PLACES if r.slug.startswith("kivu") else OTHER_PLACES[r.slug])
    return e


def grow(reports: list[Report], **kw) -> list[story.Story]:
    """Run `reports` through match/attach in order, as the route stage does; the stories made."""
    stories: list[story.Story] = []
    for r in reports:
        v = story.view(enriched_of(r, **kw))
        s = story.match(v, stories)
        if s is None:
            s = story.new_story(v)
            stories.append(s)
        story.attach(s, v)
    return stories


def test_ten_outlets_and_the_follow_ups_form_one_story_apart_from_other_events() -> None:
    stories = grow(TEN + [RISING, SAME_TOLL] + OTHERS)
    assert len(stories) == 3
    kivu = stories[0]
    assert kivu.state["size"] == 12
    assert {m["sitename"] for m in kivu.members} >= {r.sitename for r in TEN}
    assert kivu.figures["killed"]["count"] == 41 and kivu.figures["killed"]["sitename"] == "Lakeside Wire"
    assert [s.state["size"] for s in stories[1:]] == [1, 1]


def test_without_places_text_alone_groups_them() -> None:
    assert [s.state["size"] for s in grow(TEN + [RISING] + OTHERS, places=[])] == [11, 1, 1]


def test_a_differently_worded_follow_up_joins_by_headline_terms_and_place() -> None:
    first = story.view(enriched_of(TEN[0]))
    s = story.new_story(first)
    story.attach(s, first)
    # Shares no sentence with the first report: only the headline terms and the place.
    follow = story.view(
        enriched_of(
            RISING, text="Divers working from dawn brought the number of dead to 41, the governor's office announced."
        )
    )
    assert story.similarity(list(follow.signature), s.state["signatures"][0]) < story.NEAR_DUPLICATE
    assert story.score(follow, s) > 0
    assert story.match(follow, [s]) is s


def test_the_same_headline_in_another_country_is_another_story() -> None:
    first = story.view(enriched_of(TEN[0]))
    s = story.new_story(first)
    story.attach(s, first)
    elsewhere = Report(
        "kivu-elsewhere",
        "Other Wire",
        "Ferry capsizes on lake, at least 27 killed",
        "A ferry capsized on a lake in the north on Sunday and at least 27 people were killed.",
        TEN[0].published,
        27,
    )
    v = story.view(
        enriched_of(elsewhere, places=[{"name": "Mwanza", "country_code": "TZ", "kind": "city"}], text=elsewhere.lead)
    )
    assert story.score(v, s) == 0


def test_outside_the_window_is_a_new_story() -> None:
    first = story.view(enriched_of(TEN[0]))
    s = story.new_story(first)
    story.attach(s, first)
    late = Report(**{**TEN[1].__dict__, "slug": "kivu-late", "published": "2026-11-26T17:05:00+00:00"})
    v = story.view(enriched_of(late))
    assert story.score(v, s) == 0
    assert story.score(v, s, window=timedelta(days=5)) > 0


def test_attach_reports_only_rising_figures_and_is_idempotent() -> None:
    first = story.view(enriched_of(TEN[0]))
    s = story.new_story(first)
    assert [(c.category, c.previous, c.current) for c in story.attach(s, first)] == [("killed", None, 27)]
    assert story.attach(s, first) == []  # redelivered
    assert story.attach(s, story.view(enriched_of(SAME_TOLL))) == []
    changes = story.attach(s, story.view(enriched_of(RISING)))
    assert [(c.category, c.previous, c.current) for c in changes] == [("killed", 27, 41)]
    assert s.state["size"] == 3
    sources = story.sources(s)
    assert sources[0]["sitename"] == "Lakeside Wire" and sources[0]["figures"] == {"killed": 27}
    assert sources[-1]["figures"] == {"killed": 41}


def test_a_member_is_matched_to_its_own_story_first() -> None:
    stories = grow(TEN[:2] + OTHERS)
    v = story.view(enriched_of(OTHERS[0]))
    assert story.match(v, stories) is stories[1]


def test_ties_go_to_the_older_story() -> None:
    a = story.view(enriched_of(TEN[0]))
    s1, s2 = story.new_story(a), story.new_story(a)
    story.attach(s1, a)
    story.attach(s2, a)
    s2.story_id, s2.first_at = "s-later", s2.first_at + timedelta(minutes=1)
    v = story.view(enriched_of(TEN[1]))
    assert story.match(v, [s2, s1]) is s1


def test_signatures_are_stable_and_comparable() -> None:
    sig = story.signature("Ferry capsizes on Lake Kivu near Goma")
    assert sig == story.signature("ferry  capsizes on lake kivu, near Goma!")  # case and punctuation do not matter
    assert story.similarity(sig, sig) == 1.0
    assert story.similarity(sig, story.signature("Quarry wall collapses in Arequipa")) < 0.1
    assert len(sig) == 64 and story.signature("") == story.signature("")


def test_a_story_row_round_trips() -> None:
    (s,) = grow(TEN[:3])
    again = story.Story.from_row(json.loads(json.dumps(s.to_row(), default=str)))
    assert again.story_id == s.story_id and again.first_at == s.first_at and again.state == s.state


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T17:05:00+00:00", "2026-11-22T17:05:00+00:00"),
        ("2026-11-22T17:05:00Z", "2026-11-22T17:05:00+00:00"),
        ("2026-11-22", "2026-11-22T00:00:00+00:00"),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_time(value, expected) -> None:
    t = story.parse_time(value)
    assert (t.isoformat() if t else None) == expected


# -- candidate index: only stories sharing a key are loaded, and the decisions stay the same ------


def _one(r: Report, **kw) -> story.Story:
    v = story.view(enriched_of(r, **kw))
    s = story.new_story(v)
    story.attach(s, v)
    return s


def _variants() -> list[dict]:
    """Articles that match a story in each of the three ways, and some that match none."""
    reports = TEN + [RISING, SAME_TOLL] + OTHERS
    out = [enriched_of(r) for r in reports] + [enriched_of(r, places=[]) for r in reports]
    # Headline terms and place only (no shared sentence), and place only with a little text.
    out.append(
        enriched_of(
            RISING, text="Divers working from dawn brought the number of dead to 41, the governor's office announced."
        )
    )
    out.append(
        enriched_of(
            Report(
                "kivu-place",
                "Hill Radio",
                "Search goes on near Goma",
                "Boats searched near Goma.",
                TEN[0].published,
                None,
            ),
            text="Boats searched the water near Goma on Monday.",
        )
    )
    return out


def test_every_story_an_article_could_join_shares_a_key_with_it() -> None:
    arts = [story.view(e) for e in _variants()]
    stories = [_one(r) for r in TEN + [RISING] + OTHERS] + grow(TEN + [RISING, SAME_TOLL] + OTHERS)
    pairs = joined = 0
    for a in arts:
        for s in stories:
            pairs += 1
            if story.score(a, s) > 0:
                joined += 1
                assert story.keys(a) & story.story_keys(s.state), (a.canonical_url, s.story_id)
    assert joined > 40 and joined < pairs  # both kinds of pair were seen


def test_near_duplicates_nearly_always_share_a_minhash_key_and_unrelated_text_does_not() -> None:
    import random

    rng = random.Random(7)
    base = story.signature("Ferry capsizes on Lake Kivu near Goma, at least 27 killed, officials say")

    def shared(equal: int) -> int:
        # `equal` of 64 positions equal, chosen at random: how many of 300 such pairs share a band.
        found = 0
        for _ in range(300):
            same = set(rng.sample(range(64), equal))
            other = [v if i in same else v + 1 for i, v in enumerate(base)]
            assert story.similarity(base, other) == equal / 64
            found += bool(story_index._signature_keys(base) & story_index._signature_keys(other))
        return found

    # At the threshold (similarity 0.5) about 1 in 100 is missed by the bands (16 pairs: the
    # other keys, a place, a name, headline words, still find it); a wire copy (0.75) never is.
    assert shared(32) >= 291
    assert shared(48) == 300
    assert not story_index._signature_keys(base) & story_index._signature_keys(
        story.signature("Quarry wall collapses in Arequipa")
    )


def test_matching_on_the_indexed_candidates_decides_as_matching_on_all() -> None:
    index: dict[str, set[str]] = {}
    indexed: list[story.Story] = []
    full: list[story.Story] = []
    for e in _variants() + [enriched_of(r) for r in TEN]:  # redeliveries too
        v = story.view(e)
        ids = {sid for k in story.keys(v) for sid in index.get(k, ())}
        members = {s.story_id for s in indexed if s.member(v.canonical_url)}
        picked_i = story.match(v, [s for s in indexed if s.story_id in ids | members])
        picked_f = story.match(v, full)
        assert (picked_i.story_id if picked_i else None) == (picked_f.story_id if picked_f else None)
        for stories, picked in ((indexed, picked_i), (full, picked_f)):
            if picked is None:
                picked = story.new_story(v)
                stories.append(picked)
            story.attach(picked, v)
        for k in story.keys(v):
            index.setdefault(k, set()).add((picked_i or indexed[-1]).story_id)
    assert [s.state["size"] for s in indexed] == [s.state["size"] for s in full]


# -- the grouping benchmark's measures (benchmarks/bench_stories.py) -----------------------------


def test_b_cubed_and_pairs_score_a_split_and_a_merge() -> None:
    from benchmarks.bench_stories import _b3, _pairs

    gold = ["a", "a", "a", "b"]
    assert _b3(["x", "x", "x", "y"], gold) == (1.0, 1.0, 1.0)
    p, r, _ = _b3(["x", "x", "y", "y"], gold)  # one article of a split off into b's story
    assert p == pytest.approx((1 + 1 + 0.5 + 0.5) / 4) and r == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert _pairs(["x", "x", "y", "y"], gold)[:2] == (0.5, pytest.approx(1 / 3))


def test_the_window_limited_ceiling_cuts_an_incident_at_its_gaps() -> None:
    from datetime import datetime

    from benchmarks.bench_stories import window_cut

    day = [datetime(2026, 1, d) for d in (1, 2, 3, 9, 10, 11)]
    assert window_cut(["a", "b", "a", "a", "b", "a"], day, timedelta(hours=48)) == [
        "a#0",
        "b#0",
        "a#0",
        "a#1",
        "b#1",
        "a#1",
    ]


def test_events_load_in_publication_order_with_archive_urls_unwrapped(tmp_path: Path) -> None:
    from benchmarks.bench_stories import load_events

    rows = [
        {
            "id": "2",
            "text": "Second headline\n\nBody two.",
            "published": "2026-01-02",
            "incident_id": "7",
            "incident_date": "2026-01-01",
            "url": "http://web.archive.org/web/2026/http://news.example/b",
        },
        {
            "id": "1",
            "text": "First headline\n\nBody one.",
            "published": "2026-01-01",
            "incident_id": "8",
            "incident_date": "2026-01-01",
            "url": "https://news.example/a",
        },
        {"id": "3", "text": "No date", "published": None, "incident_id": "8", "url": "https://news.example/c"},
    ]
    f = tmp_path / "events.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    articles, undated = load_events(f)
    assert undated == 1 and [a["canonical_url"] for a in articles] == [
        "https://news.example/a",
        "http://news.example/b",
    ]
    assert articles[0]["title"] == "First headline" and articles[0]["text"] == "Body one."
    assert [a["_incident"] for a in load_events(f, parity="odd")[0]] == ["7"]


# -- what makes two articles one event (issue 17) ------------------------------------------------


def test_minhash_estimates_the_exact_jaccard_of_random_pairs() -> None:
    import random

    rng = random.Random(17)
    vocab = [f"w{i}" for i in range(400)]
    errors, false_near = [], 0
    for _ in range(400):
        a = [rng.choice(vocab) for _ in range(60)]
        # b keeps a random share of a's text and writes the rest anew: every Jaccard from 0 to 1.
        keep = rng.randint(0, 60)
        b = a[:keep] + [rng.choice(vocab) for _ in range(60 - keep)]
        sa, sb = story.shingles(" ".join(a)), story.shingles(" ".join(b))
        exact = len(sa & sb) / len(sa | sb)
        est = story.similarity(story.signature(" ".join(a)), story.signature(" ".join(b)))
        errors.append(abs(est - exact))
        false_near += exact < 0.3 and est >= story.NEAR_DUPLICATE
    # 64 independent permutations: standard error sqrt(J(1-J)/64) <= 0.0625.
    assert sum(errors) / len(errors) < 0.05 and max(errors) < 0.25 and false_near == 0


def test_one_common_phrase_does_not_make_unrelated_texts_near_duplicates() -> None:
    import random

    rng = random.Random(3)
    words = "market river bridge harbour tower clinic depot ferry quarry tunnel orchard mill".split()
    texts = [
        " ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(30)) + " at the scene of the"
        for _ in range(60)
    ]
    sigs = [story.signature(t) for t in texts]
    high = sum(story.similarity(a, b) >= story.NEAR_DUPLICATE for i, a in enumerate(sigs) for b in sigs[i + 1 :])
    assert high == 0


@pytest.mark.parametrize(
    "language, a, b",
    [
        ("en", "Shootings near Bristol school", "Bristol schools: shooting"),
        ("fr", "Incendies dans une usine de Lyon", "Incendie usines Lyon"),
        ("ar", "انفجار في المدرسة", "انفجار مدرسة"),
    ],
)
def test_headline_words_match_by_stem_in_each_language(language, a, b) -> None:
    assert story_words._content(a, language) == story_words._content(b, language) and story_words._content(a, language)


def test_casualty_and_event_words_say_nothing_about_which_event() -> None:
    assert story_words._content("16-year-old shot dead, two wounded in shooting", "en") == frozenset()
    assert story_words._content("Deux morts et trois blessés dans une fusillade", "fr") == frozenset()


@pytest.mark.parametrize(
    "title, url, sitename, expected",
    [
        (
            "Two hurt in shooting - Action News 5 - Memphis, Tennessee",
            "https://www.wmcactionnews5.example/a",
            None,
            "Two hurt in shooting",
        ),
        (
            "Bridge closed after crash | Valley Courier",
            "https://news.example/a",
            "Valley Courier",
            "Bridge closed after crash",
        ),
        ("Mill fire - wxyz.com - Dayton, Ohio |", "https://www.wxyz.com/a", None, "Mill fire"),
        (
            "Shooting in Dayton - police say",
            "https://www.daytonherald.example/a",
            None,
            "Shooting in Dayton - police say",
        ),
        ("No separator here", "https://x.example/a", "X", "No separator here"),
    ],
)
def test_the_outlets_name_is_stripped_from_the_headline(title, url, sitename, expected) -> None:
    assert story.headline(title, url, sitename) == expected


def _placed(title: str, text: str, names: list[tuple[str, str, str]]) -> story.ArticleView:
    """A view of an article whose places are found where enrichment would find them."""
    doc = f"{title}\n\n{text}"
    places = []
    for form, kind, code in names:
        i = doc.index(form)
        places.append({"name": form, "kind": kind, "country_code": code, "start": i, "end": i + len(form)})
    return story.view(dict(BASE, title=title, text=text, places=places, canonical_url="https://a.example/1"))


def test_a_street_or_a_state_is_not_a_shared_place() -> None:
    v = _placed(
        "Two hurt in overnight shooting",
        "Two men were hurt near 21st & Cleveland early on Friday. "
        "Officers closed Denver Avenue for hours. The shooting was the third in Florida this week.",
        [("Cleveland", "city", "US"), ("Denver", "city", "US"), ("Florida", "region", "US")],
    )
    assert v.places == frozenset() and v.regions == {"florida"}
    w = _placed(
        "Two hurt in Cleveland shooting", "Two men were hurt in Cleveland on Friday.", [("Cleveland", "city", "US")]
    )
    assert w.places == {"cleveland"} and w.lead_places == {"cleveland"}


def test_a_place_only_in_the_outlets_part_of_the_title_is_not_the_events_place() -> None:
    v = _placed(
        "Two hurt in overnight shooting - Action News 5 - Memphis",
        "Two men were hurt on Friday night.",
        [("Memphis", "city", "US")],
    )
    assert v.places == frozenset()


DINER = datetime.fromisoformat("2026-03-02T10:00:00+00:00")


def _payload(slug: str, title: str, text: str, at: str, **kw) -> dict:
    """An article published (and fetched) at `at`, at its own outlet."""
    url = f"https://{slug}.example/news/{slug}"
    return dict(BASE, title=title, text=text, published=at, fetched_at=at, canonical_url=url, url=url,
                final_url=url, link_id=f"link-{slug}", sitename=None, **kw)  # fmt: skip


def _diner(title: str, text: str, days: float, slug: str) -> dict:
    return enrich(_payload(slug, title, text, (DINER + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")))


FIRST = (
    "Gunman kills three at Harlow Creek diner",
    "Three people were killed when a gunman opened fire at the Riverbend Diner in Harlow Creek on Sunday "
    "night, police said. Police named the first victim as Marta Velasquez, 41. Officers in Harlow Creek "
    "said the suspect drove away.",
)
CHARGED = (
    "Man charged in Harlow Creek diner killings",
    "Prosecutors charged a 29-year-old man on Monday over the attack at the Riverbend Diner in Harlow "
    "Creek that killed three people. Marta Velasquez was among them.",
)
FOURTH = (
    "Marta Velasquez remembered as fourth Harlow Creek diner victim dies",
    "A fourth person shot at the Riverbend Diner in Harlow Creek has died. Four people were killed in "
    "the attack. Friends of Marta Velasquez gathered at the diner on Tuesday.",
)
OTHER_DINER = (
    "Gunman kills three at Elm Point bakery",
    "Three people were killed when a gunman opened fire at a bakery in Elm Point on Friday, police "
    "said. Officers in Elm Point are searching for a grey van.",
)


def follow_ups() -> list[dict]:
    """An event, its follow-ups months later (same toll; then a higher toll and a victim's name),
    and another event with the same toll and no shared name."""
    return [
        _diner(*FIRST, 0, "first"),
        _diner(*CHARGED, 100, "charged"),
        _diner(*OTHER_DINER, 103, "other"),
        _diner(*FOURTH, 130, "fourth"),
    ]


def test_a_follow_up_after_the_window_joins_its_story_only_with_strong_evidence() -> None:
    first, charged, other, fourth = (story.view(e) for e in follow_ups())
    s = story.new_story(first)
    story.attach(s, first)
    assert story.match(charged, [s]) is None  # past the window, no follow-ups asked for
    horizon = timedelta(days=365)
    assert story.expired(charged, s) and story.match(charged, [s], follow_up=horizon) is s
    assert story.keys(charged) & story.story_keys(s.state)
    story.attach(s, charged)
    assert story.match(other, [s], follow_up=horizon) is None  # the same toll elsewhere is another event
    assert story.match(fourth, [s], follow_up=horizon) is s  # a victim's name and the place's name
    assert story.keys(fourth) & story.story_keys(s.state)
    assert story.match(charged, [s], follow_up=timedelta(days=30)) is s  # a member stays a member
    late = story.view(
        dict(
            follow_ups()[1],
            canonical_url="https://late.example/x",
            fetched_at="2028-06-01T00:00:00Z",
            published="2028-06-01T00:00:00Z",
        )
    )
    assert story.match(late, [s], follow_up=horizon) is None  # beyond the horizon


def test_a_dateline_names_the_place_however_it_is_written() -> None:
    a = story.view(
        dict(
            BASE,
            title="Four hurt in Marlow Bend shooting",
            canonical_url="https://a.example/1",
            text="MARLOW BEND — Four people were hurt on Friday night, officers said.",
            places=[],
        )
    )
    b = story.view(
        dict(
            BASE,
            title="Marlow Bend police look for a grey van",
            canonical_url="https://b.example/1",
            text="Marlow Bend, Ore. (AP) Officers are looking for a grey van after a shooting.",
            places=[],
        )
    )
    assert a.names == b.names == {"marlow bend"}


def test_people_are_named_people_not_officials_organisations_places_or_bylines() -> None:
    text = (
        "Deputies named the man who died as Tobias K. Wendell, 34, of Pine Ridge. Sheriff Ana Ruiz said "
        "Corey Lindqvist Jr., 19, was arrested near Fallow Mill. A Fallow Mill man was hurt. Crime Stoppers "
        "and Saint Agnes Medical Center asked for calls. Ledger/Rosa Pike took the photo. Get email "
        "notifications on Hal Brenner daily!"
    )
    people = story_words._people(text, story_words._body_words(text), "en")
    assert people == {"tobia wendel", "corey lindqvist"}, people
    roundup = " ".join(
        f"{first} {last} was shot on Elm."
        for first, last in zip(
            "Ada Bo Cy Di Ed Flo Gus Hal Ivy".split(), "Marsh Quill Stone Vale Wren Yates Zorn Pell Fenn".split()
        )
    )
    assert story_words._people(roundup, story_words._body_words(roundup), "en") == frozenset()  # several events


def _report(slug: str, title: str, text: str, at: str, **kw) -> story.ArticleView:
    return story.view(_payload(slug, title, text, at, places=[], **kw))


FIRST_REPORT = (
    "Two wounded outside corner store",
    "Two men were wounded late on Friday outside a corner store, deputies said. The men, Tobias Wendell "
    "and Corey Lindqvist, were taken to a trauma unit. Deputies are looking for a dark sedan.",
)
SECOND_REPORT = (
    "Families ask for calm after weekend attack",
    "Relatives of Tobias Wendell gathered on Saturday. He and Corey Lindqvist remain in care, "
    "their families said, and asked anyone who saw the sedan to call deputies.",
)
OTHER_REPORT = (
    "Two wounded at bus depot",
    "Two women were wounded on Saturday at a bus depot, deputies said. Deputies named them as Lena "
    "Varga and Ines Holt. Spokesman Mark Tolliver said the search goes on.",
)
OFFICIAL_ONLY = (
    "Deputies seek witnesses",
    "Spokesman Mark Tolliver asked witnesses of the depot attack to call. Deputies said the weapon was not found.",
)


def test_people_named_in_both_texts_join_them_and_an_officials_name_does_not() -> None:
    first = _report("first", *FIRST_REPORT, "2026-05-01T22:00:00Z", figures={"injured": {"count": 2}})
    s = story.new_story(first)
    story.attach(s, first)
    second = _report("second", *SECOND_REPORT, "2026-05-02T09:00:00Z")  # no headline word, place or toll shared
    assert second.people == {"tobia wendel", "corey lindqvist"}
    assert story.match(second, [s]) is s and story.keys(second) & story.story_keys(s.state)
    other = _report("other", *OTHER_REPORT, "2026-05-02T10:00:00Z", figures={"injured": {"count": 2}})
    assert story.match(other, [s]) is None  # the same toll, other people
    o = story.new_story(other)
    story.attach(o, other)
    assert (
        "mark tolliv" not in other.people
        and story.match(_report("off", *OFFICIAL_ONLY, "2026-05-02T12:00:00Z"), [o]) is None
    )


def test_people_named_again_after_the_window_make_a_follow_up() -> None:
    first = _report("first", *FIRST_REPORT, "2026-05-01T22:00:00Z", figures={"injured": {"count": 2}})
    s = story.new_story(first)
    story.attach(s, first)
    horizon = timedelta(days=365)
    charged = _report(
        "charged",
        "Teenager charged over store attack",
        "Prosecutors charged a 17-year-old on Thursday with wounding Tobias Wendell and Corey "
        "Lindqvist outside the store.",
        "2026-05-09T10:00:00Z",
    )
    assert story.expired(charged, s) and story.match(charged, [s], follow_up=horizon) is s
    assert story.keys(charged) & story.story_keys(s.state)
    one = _report(
        "one",
        "Man hurt in crash",
        "Tobias Wendell was hurt when his car hit a wall on Main.",
        "2026-09-01T10:00:00Z",
        figures={"injured": {"count": 1}},
    )
    assert story.match(one, [s], follow_up=horizon) is None  # one name months later, another toll: another event


def test_a_name_one_text_writes_as_a_proper_noun_joins_a_headline_that_only_names_it() -> None:
    # The first text names Quarrytown as a proper noun; the second writes it only in its headline.
    first = _report(
        "qa",
        "Girl wounded and man killed in Quarrytown shootings",
        "A girl was wounded and a man was killed on Sunday in two shootings, officers in Quarrytown said.",
        "2026-06-07T20:00:00Z",
        figures={"killed": {"count": 1}},
    )
    second = _report(
        "qb",
        "Girl shot in Quarrytown while playing outside",
        "A girl was shot on Sunday evening while she played near her home. She is expected to recover.",
        "2026-06-08T08:00:00Z",
        figures={"injured": {"count": 1}},
    )
    assert "quarrytown" in first.names and "quarrytown" not in second.names
    s = story.new_story(first)
    story.attach(s, first)
    assert story.match(second, [s]) is s and story.keys(second) & story.story_keys(s.state)
    # Not the other way round: a story is not filed under every word of its headlines.
    s2 = story.new_story(second)
    story.attach(s2, second)
    assert story.match(first, [s2]) is None


def _in_city(city: str, slug: str, title: str, text: str, at: str, **figures: int) -> story.ArticleView:
    """A report from `city` (as enrichment's places give it) with `figures` ({"killed": 1})."""
    places = [{"name": city, "country_code": "US", "kind": "city"}]
    counts = {k: {"count": n} for k, n in figures.items()}
    return story.view(_payload(slug, title, text, at, places=places, figures=counts))


def _story_of(first: story.ArticleView) -> story.Story:
    s = story.new_story(first)
    story.attach(s, first)
    return s


def test_a_late_report_naming_the_victims_deep_in_its_text_follows_up_with_the_same_toll_and_place() -> None:
    first = _in_city("Dunmore", "dm1", "Two wounded outside Dunmore corner store", "In Dunmore, " + FIRST_REPORT[1],
                    "2026-05-01T22:00:00Z", injured=2)  # fmt: skip
    s = _story_of(first)
    court = "The jury heard from witnesses for most of the morning session in Dunmore. " * 25
    late_text = court + "Tobias Wendell, one of the two men wounded outside the store, spoke last."
    title, at = "Dunmore store attack trial opens", "2026-10-01T10:00:00Z"
    late = _in_city("Dunmore", "dm2", title, late_text, at, injured=2)
    assert "tobia wendel" not in late.people and "tobia wendel" in late.body_people  # named after the first lines
    assert story.expired(late, s) and story.match(late, [s], follow_up=timedelta(days=365)) is s
    assert story.keys(late) & story.story_keys(s.state)
    # Another toll: the name alone, that late in the text, is no follow-up.
    assert (
        story.match(_in_city("Dunmore", "dm3", title, late_text, at, injured=5), [s], follow_up=timedelta(days=365))
        is None
    )


def test_the_day_a_lead_names_is_resolved_against_the_publication_date() -> None:
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # a Monday
    assert story.event_day("A man was shot on Saturday night near the park.", monday) == "2026-06-06"
    assert story.event_day("Two were hurt late Monday, police said.", monday) == "2026-06-08"
    assert story.event_day("A woman was wounded last night.", monday) == "2026-06-07"
    assert story.event_day("Officers said nobody was hurt.", monday) is None


def test_the_same_toll_in_the_same_city_on_the_same_stated_day_joins_without_a_headline_word() -> None:
    first = _in_city("Ashby", "as1", "Teen hurt by gunfire", "In Ashby, a teen was hurt by gunfire on Saturday night.",
                  "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    same = _in_city("Ashby", "as2", "Police seek driver of grey van", "Ashby police want to talk to a van driver after "
                 "a 16-year-old was wounded Saturday.", "2026-06-08T08:00:00Z", injured=1)  # fmt: skip
    other = _in_city("Ashby", "as3", "Police seek driver of grey van", "Ashby police want to talk to a van driver after "
                  "a 16-year-old was wounded Sunday.", "2026-06-08T08:00:00Z", injured=1)  # fmt: skip
    assert same.event_day == first.event_day == "2026-06-06" and other.event_day == "2026-06-07"
    assert story.match(same, [s]) is s and story.keys(same) & story.story_keys(s.state)
    assert story.match(other, [s]) is None  # another day: another shooting in the same city


def test_a_report_months_later_naming_the_day_it_happened_follows_up_in_the_same_city() -> None:
    assert story.named_dates(
        "The Oct. 3 attack and the June 6th trial; at 9:30 p.m. Sept 31", datetime(2027, 1, 2, tzinfo=UTC)
    ) == {
        "2026-10-03",
        "2026-06-06",
    }

    first = _in_city("Elmira", "el1", "Man killed outside Elmira bakery", "In Elmira, a man was killed outside a bakery "
                    "on Saturday, police said.", "2026-10-04T08:00:00Z", killed=1)  # fmt: skip
    s = _story_of(first)
    late = _in_city("Elmira", "el2", "Bakery killing suspect pleads guilty", "In Elmira, a suspect pleaded guilty over "
                  "the Oct. 3 killing of a man outside a bakery.", "2027-02-10T08:00:00Z", killed=1)  # fmt: skip
    other = _in_city("Elmira", "el3", "Bakery killing suspect pleads guilty", "In Elmira, a suspect pleaded guilty over "
                   "the Oct. 9 killing of a man outside a bakery.", "2027-02-10T08:00:00Z", killed=1)  # fmt: skip
    horizon = timedelta(days=730)
    assert first.event_day == "2026-10-03" and story.match(late, [s], follow_up=horizon) is s
    assert story.keys(late) & story.story_keys(s.state)
    assert story.match(other, [s], follow_up=horizon) is None  # another day's killing in the same city


def test_one_person_named_in_both_on_the_day_both_leads_state_joins_in_the_window() -> None:
    first = _report("ra1", "Man wounded near rail yard", "A man was wounded on Saturday night near the rail yard, "
                    "deputies said. Deputies named him as Ronan Aldous.", "2026-06-07T08:00:00Z",
                    figures={"injured": {"count": 1}})  # fmt: skip
    s = _story_of(first)
    same = _report("ra2", "Family asks for help finding driver", "Relatives of Ronan Aldous, who was shot on "
                   "Saturday, asked for help finding the driver.", "2026-06-08T08:00:00Z")  # fmt: skip
    other = _report("ra3", "Family asks for help finding driver", "Relatives of Ronan Aldous, who was shot on "
                    "Sunday, asked for help finding the driver.", "2026-06-08T08:00:00Z")  # fmt: skip
    assert same.people & first.people and not same.title_words & first.title_words
    assert story.match(same, [s]) is s and story.keys(same) & story.story_keys(s.state)
    assert story.match(other, [s]) is None  # the same name on another day: no toll, no place, no headline word


def test_a_follow_up_naming_the_day_with_the_same_toll_joins_the_story_its_headline_names() -> None:
    # No place known: the name of the headlines (one word, so not a victim's full name) says where.
    first = _report("kt1", "Four hurt in Kestrelton shooting", "Four people were hurt in Kestrelton on Saturday "
                    "night, officers said.", "2026-06-07T08:00:00Z", figures={"injured": {"count": 4}})  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)

    def later(day: str) -> story.ArticleView:
        return _report(f"kt-{day}", "Man arrested over Kestrelton shooting", f"Officers in Kestrelton arrested a "
                       f"man over the June {day} shooting that wounded four people.", "2026-06-20T08:00:00Z",
                       figures={"injured": {"count": 4}})  # fmt: skip

    assert first.event_day == "2026-06-06" and "kestrelton" in first.names
    assert story.expired(later("6"), s) and story.match(later("6"), [s], follow_up=horizon) is s
    assert story.keys(later("6")) & story.story_keys(s.state)
    assert story.match(later("9"), [s], follow_up=horizon) is None  # another day's shooting there


def test_a_rare_toll_in_the_same_city_follows_up_however_late() -> None:
    first = _in_city("Larkfield", "lk1", "Gunman kills five at Larkfield fair", "In Larkfield, five people were "
                     "killed and six wounded at the fair.", "2026-06-07T08:00:00Z", killed=5, injured=6)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)
    vigil = _in_city("Larkfield", "lk2", "Vigil held months after fair attack", "In Larkfield, families gathered "
                     "where five were killed and six wounded.", "2026-10-07T08:00:00Z", killed=5, injured=6)  # fmt: skip
    assert story.match(vigil, [s], follow_up=horizon) is s and story.keys(vigil) & story.story_keys(s.state)
    six = _in_city("Larkfield", "lk3", "Six hurt at Larkfield party", "In Larkfield, six people were wounded at a "
                   "party.", "2026-10-07T08:00:00Z", injured=6)  # fmt: skip
    assert story.match(six, [s], follow_up=horizon) is None  # six wounded: not rare enough to name the event


def test_one_person_in_the_same_city_with_the_day_named_follows_up() -> None:
    first = _in_city("Harwick", "hw1", "Teen hurt outside Harwick arcade", "In Harwick, a teen was hurt outside "
                     "an arcade on Friday. Police named him as Dario Penhale.", "2026-06-06T08:00:00Z",
                     injured=1)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)

    def later(day: str) -> story.ArticleView:
        return _in_city("Harwick", f"hw-{day}", "Arcade owner sued", f"In Harwick, the owner of the arcade where "
                        f"Dario Penhale was shot on June {day} was sued.", "2026-07-20T08:00:00Z")  # fmt: skip

    assert first.event_day == "2026-06-05" and later("5").people & first.people
    assert story.match(later("5"), [s], follow_up=horizon) is s and story.keys(later("5")) & story.story_keys(s.state)
    assert story.match(later("9"), [s], follow_up=horizon) is None  # one name and the city: not enough


def test_the_same_outlet_stands_for_the_city_when_neither_text_names_one() -> None:
    def report(slug: str, host: str, title: str, text: str, at: str) -> story.ArticleView:
        url = f"https://{host}/news/{slug}"
        return story.view(dict(_payload(slug, title, text, at, places=[], figures={"injured": {"count": 2}}),
                               canonical_url=url, url=url, final_url=url))  # fmt: skip

    first = report("ol1", "www.valley-herald.example", "Two hurt near skate park", "Two teens were hurt near the "
                   "skate park on Saturday night, officers said.", "2026-06-07T08:00:00Z")  # fmt: skip
    s = _story_of(first)
    title, text = "Officers look for grey van", "Officers want to find a grey van seen on Saturday when two were hurt."
    same = report("ol2", "valley-herald.example", title, text, "2026-06-08T08:00:00Z")
    elsewhere = report("ol3", "coast-times.example", title, text, "2026-06-08T08:00:00Z")
    assert same.host == first.host == "valley-herald.example" and same.event_day == first.event_day
    assert story.match(same, [s]) is s and story.keys(same) & story.story_keys(s.state)
    assert story.match(elsewhere, [s]) is None  # another outlet: the same toll on that day may be anywhere


def test_a_person_a_late_report_is_about_follows_up_in_the_same_city() -> None:
    first = _in_city("Tarnby", "tb1", "Man killed outside Tarnby bar", "In Tarnby, a man was killed outside a bar. "
                     "Police arrested Wade Oakhurst nearby.", "2026-03-01T08:00:00Z", killed=1)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)
    about = _in_city("Tarnby", "tb2", "Jury hears from defendant", "In Tarnby, Wade Oakhurst told jurors he was "
                     "scared. Oakhurst said he ran. Prosecutors say Oakhurst lied.", "2026-09-01T08:00:00Z")  # fmt: skip
    passing = _in_city("Tarnby", "tb3", "Jury hears from defendant", "In Tarnby, a defendant told jurors he was "
                       "scared, Wade Oakhurst said.", "2026-09-01T08:00:00Z")  # fmt: skip
    assert about.central_people == {"wade oakhurst"} and not passing.central_people
    assert story.match(about, [s], follow_up=horizon) is s and story.keys(about) & story.story_keys(s.state)
    assert story.match(passing, [s], follow_up=horizon) is None  # named once, months later: no evidence


def test_credits_and_public_figures_are_not_the_events_people() -> None:
    text = ("Seven people were shot. Photo: Lena Brightwater, Daily Ledger. Neighbors gathered (Lena Brightwater / "
            "Daily Ledger). Community activist Omar Pellew spoke. Tobias Wendell was hurt.")  # fmt: skip
    assert story_words._people(text, story_words._body_words(text), "en") == {"tobia wendel"}


@pytest.mark.parametrize(
    "language, lead, day",
    [
        ("fr", "Deux blessés samedi soir près du marché, selon la police.", "2026-06-06"),
        ("fr", "Un homme a été tué hier devant un café.", "2026-06-07"),
        ("fr-CA", "Fusillade ce matin dans un parc.", "2026-06-08"),
        ("ar", "أصيب شخصان مساء السبت قرب السوق.", "2026-06-06"),
        ("ar", "قتل رجل وأمس أمام مقهى.", "2026-06-07"),
        ("de", "A man was shot on Sunday.", "2026-06-07"),  # a language without a table is read as English
        ("fr", "La police n'a donné aucun détail.", None),
    ],
)
def test_the_day_a_lead_names_is_read_in_each_supported_language(language: str, lead: str, day: str | None) -> None:
    monday = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    assert story.event_day(lead, monday, language) == day


def test_dates_are_named_in_each_supported_language() -> None:
    at = datetime(2027, 1, 2, tzinfo=UTC)
    assert story.named_dates("Lors de la fusillade du 3 octobre et du 1er juin", at, "fr") == {
        "2026-10-03",
        "2026-06-01",
    }
    assert story.named_dates("في هجوم 3 أكتوبر و٦ حزيران", at, "ar") == {"2026-10-03", "2026-06-06"}
    assert story.named_dates("the Oct. 3 attack", at, None) == {"2026-10-03"}


def test_ages_are_read_as_news_gives_them() -> None:
    text = "A 24-year-old man and a 3 year old were hurt. Marta Velasquez, 41, saw it."
    assert story_words._ages(text) == {"24", "3", "41"}
    roundup = " ".join(f"A {n}-year-old was shot on Elm." for n in (17, 22, 35, 41, 58))
    assert story_words._ages(roundup) == frozenset()  # several events


def test_an_age_told_in_both_with_the_same_toll_and_day_joins_in_the_window() -> None:
    def report(slug: str, title: str, age: int) -> story.ArticleView:
        text = f"A {age}-year-old and three others were wounded on Saturday night, deputies said."
        return _report(slug, title, text, "2026-06-07T08:00:00Z", figures={"injured": {"count": 4}})

    first = report("ag1", "Four wounded near fairground", 19)
    s = _story_of(first)
    same = report("ag2", "Deputies look for a grey van", 19)
    assert story.match(same, [s]) is s and story.keys(same) & story.story_keys(s.state)
    assert story.match(report("ag3", "Deputies look for a grey van", 23), [s]) is None  # another age


def test_an_age_told_in_both_with_the_toll_and_the_day_follows_up_in_the_city() -> None:
    first = _in_city("Corwen", "cw1", "Man killed outside Corwen bar", "In Corwen, a 27-year-old man was killed "
                     "outside a bar on Friday.", "2026-06-06T08:00:00Z", killed=1)  # fmt: skip
    s = _story_of(first)

    def later(age: int) -> story.ArticleView:
        return _in_city("Corwen", f"cw-{age}", "Suspect pleads guilty", f"In Corwen, a suspect pleaded guilty over "
                        f"the June 5 killing of a {age}-year-old.", "2026-11-06T08:00:00Z", killed=1)  # fmt: skip

    horizon = timedelta(days=730)
    assert story.match(later(27), [s], follow_up=horizon) is s and story.keys(later(27)) & story.story_keys(s.state)
    assert story.match(later(31), [s], follow_up=horizon) is None  # one killed that day, another age


def test_a_place_the_other_headline_names_is_no_conflict_where_the_gazetteer_missed_it() -> None:
    first = _in_city("Pellham", "ph1", "Teen hurt in Pellham", "In Pellham, a teen was hurt by gunfire on "
                     "Saturday.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    # The second outlet's text names only the county seat it is in; its headline names Pellham.
    second = _in_city("Dorley", "ph2", "Pellham teen recovering", "In Dorley, officers said the teen hurt on "
                      "Saturday is recovering.", "2026-06-08T08:00:00Z", injured=1)  # fmt: skip
    elsewhere = _in_city("Dorley", "ph3", "Dorley teen recovering", "In Dorley, officers said the teen hurt on "
                         "Saturday is recovering.", "2026-06-08T08:00:00Z", injured=1)  # fmt: skip
    assert story.match(second, [s]) is s
    assert story.match(elsewhere, [s]) is None  # each names its own city: two events


def test_one_person_with_the_same_toll_in_the_same_city_follows_up_months_later() -> None:
    first = _in_city("Mossgate", "mg1", "Boy hurt in Mossgate", "In Mossgate, a boy was hurt. Deputies named "
                     "the boy's uncle, Cyrus Emberly.", "2026-03-01T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)
    later = _in_city("Mossgate", "mg2", "Uncle sentenced", "In Mossgate, Cyrus Emberly was sentenced over the "
                     "wounding of a boy.", "2026-09-01T08:00:00Z", injured=1)  # fmt: skip
    assert story.match(later, [s], follow_up=horizon) is s and story.keys(later) & story.story_keys(s.state)
    other_toll = _in_city("Mossgate", "mg3", "Uncle sentenced", "In Mossgate, Cyrus Emberly was sentenced over the "
                          "killing of a boy.", "2026-09-01T08:00:00Z", killed=1)  # fmt: skip
    assert story.match(other_toll, [s], follow_up=horizon) is None


def test_a_hospital_or_a_road_is_not_a_person() -> None:
    text = "The boy was taken to Our Lady of Mercy. It happened on Nolan Pike near Dover Trail. Tobias Wendell saw it."
    assert story_words._people(text, story_words._body_words(text), "en") == {"tobia wendel"}


def test_a_toll_that_rose_joins_in_the_city_on_the_same_stated_day() -> None:
    first = _in_city("Brackley", "bk1", "Two hurt at Brackley party", "In Brackley, two people were hurt at a party "
                     "on Saturday night.", "2026-06-07T08:00:00Z", injured=2)  # fmt: skip
    s = _story_of(first)

    def later(slug: str, day: str, **figures: int) -> story.ArticleView:
        return _in_city("Brackley", slug, "Victim dies", f"In Brackley, a victim of the shooting on {day} has died.",
                        "2026-06-08T09:00:00Z", **figures)  # fmt: skip

    assert story.match(later("bk2", "Saturday", killed=1, injured=2), [s]) is s  # a victim died, none fewer hurt
    assert story.match(later("bk3", "Sunday", killed=1, injured=2), [s]) is None  # another day
    assert story.match(later("bk4", "Saturday", killed=4, injured=9), [s]) is None  # a roundup, not a toll that grew


def test_an_age_told_in_both_with_the_same_toll_joins_in_the_city_both_leads_name() -> None:
    first = _in_city("Tacoma", "tc1", "Man wounded near food truck", "In Tacoma, a 19-year-old man was wounded near "
                     "a food truck, police said.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)

    def second(slug: str, age: int, **figures: int) -> story.ArticleView:
        return _in_city("Tacoma", slug, "Police ask for video from residents", f"Tacoma police asked residents for "
                        f"doorbell video after a {age}-year-old was hurt.", "2026-06-08T08:00:00Z", **figures)  # fmt: skip

    assert story.match(second("tc2", 19, injured=1), [s]) is s
    assert story.keys(second("tc2", 19, injured=1)) & story.story_keys(s.state)
    assert story.match(second("tc3", 23, injured=1), [s]) is None  # another age
    assert story.match(second("tc4", 19, killed=1, injured=2), [s]) is None  # another toll
    # The same outlet's pages share their furniture ("the 19-year-old's graduation" teased under
    # each): an age is evidence only from another outlet.
    same_outlet = dict(_payload("tc1", "Police ask for video from residents", "Tacoma police asked residents for "
                       "doorbell video after a 19-year-old was hurt.", "2026-06-08T08:00:00Z",
                       places=[{"name": "Tacoma", "country_code": "US", "kind": "city"}],
                       figures={"injured": {"count": 1}}), canonical_url="https://tc1.example/news/video")  # fmt: skip
    assert story.match(story.view(same_outlet), [s]) is None


def test_towns_are_small_by_their_population_in_the_articles_state() -> None:
    assert story.small_towns({"marfa", "tacoma", "springfield", "kent", "nowhereville"}) == {"marfa"}
    assert story.small_towns({"springfield", "kent"}, {"kentucky"}) == {"springfield"}  # 3,055 people there
    assert story.small_towns({"springfield", "kent"}, {"ohio"}) == {"kent"}  # Kent, Ohio: under 30,000
    assert story.small_towns({"harris county"}) == frozenset()  # a county's size is unknown


def test_the_same_toll_in_a_small_town_joins_and_follows_up_soon_after() -> None:
    def report(city: str, slug: str, title: str, text: str, at: str) -> story.ArticleView:
        return _in_city(city, slug, title, f"In {city}, {text}", at, injured=1)

    first = report("Marfa", "mf1", "Man wounded at rodeo grounds", "a man was wounded at the rodeo grounds.",
                   "2026-06-07T08:00:00Z")  # fmt: skip
    s = _story_of(first)
    second = report("Marfa", "mf2", "Deputies ask for tips", "deputies asked for tips about a shooting.",
                    "2026-06-08T08:00:00Z")  # fmt: skip
    assert story.match(second, [s]) is s and story.keys(second) & story.story_keys(s.state)
    # A big city has such a shooting every day: the toll and the city are not enough there.
    city = _story_of(report("Tacoma", "tk1", "Man wounded at rodeo grounds", "a man was wounded at the rodeo "
                            "grounds.", "2026-06-07T08:00:00Z"))  # fmt: skip
    assert story.match(report("Tacoma", "tk2", "Deputies ask for tips", "deputies asked for tips about a shooting.",
                              "2026-06-08T08:00:00Z"), [city]) is None  # fmt: skip
    # After the window: soon, a follow-up; a month later, maybe another shooting even there.
    horizon = timedelta(days=730)
    soon = report("Marfa", "mf3", "Suspect arrested", "a suspect was arrested over a shooting.", "2026-06-14T08:00:00Z")
    assert story.expired(soon, s) and story.match(soon, [s], follow_up=horizon) is s
    assert story.keys(soon) & story.story_keys(s.state)
    late = report("Marfa", "mf4", "Suspect arrested", "a suspect was arrested over a shooting.", "2026-07-20T08:00:00Z")
    assert story.match(late, [s], follow_up=horizon) is None


def _in_places(
    slug: str, title: str, text: str, at: str, names: list[tuple[str, str]], **figures: int
) -> story.ArticleView:
    """A report whose places (name, kind) are found where enrichment would find them, with `figures`."""
    doc = f"{title}\n\n{text}"
    places = [
        {"name": n, "kind": k, "country_code": "US", "start": doc.index(n), "end": doc.index(n) + len(n)}
        for n, k in names
    ]
    counts = {k: {"count": n} for k, n in figures.items()}
    return story.view(_payload(slug, title, text, at, places=places, figures=counts))


def test_states_tell_events_apart_only_where_the_leads_name_them() -> None:
    first = _in_places("rg1", "Three killed at Dunmore dance hall", "DUNMORE, Pa. - Three people were killed at a "
                       "dance hall in Dunmore, Pennsylvania, on Saturday night.", "2026-06-07T08:00:00Z",
                       [("Dunmore", "city"), ("Pennsylvania", "region")], killed=3)  # fmt: skip
    s = _story_of(first)
    # A later report whose page carries another state in its furniture, far below the lead.
    furniture = " Officers talked to witnesses again and again." * 12 + " More news: Ohio lawmakers vote on budget."
    later = _in_places("rg2", "Dunmore dance hall victims mourned", "In Dunmore, families mourned the three killed "
                       "at the dance hall." + furniture, "2026-06-15T08:00:00Z",
                       [("Dunmore", "city"), ("Ohio", "region")], killed=3)  # fmt: skip
    assert later.regions == {"ohio"} and later.lead_regions == frozenset()
    assert story.match(later, [s], follow_up=timedelta(days=730)) is s
    # A lead naming the story's state beside its own (a victim "of Dunmore, Pennsylvania") is no conflict either;
    # a lead naming only another state is.
    visitor = _in_places("rg3", "Dunmore dance hall victims mourned", "In Dunmore, Ohio, families of the three "
                         "killed at a Dunmore, Pennsylvania, dance hall mourned.", "2026-06-15T08:00:00Z",
                         [("Dunmore", "city"), ("Ohio", "region"), ("Pennsylvania", "region")], killed=3)  # fmt: skip
    assert story.match(visitor, [s], follow_up=timedelta(days=730)) is s
    elsewhere = _in_places("rg4", "Dunmore dance hall victims mourned", "In Dunmore, Ohio, families mourned the "
                           "three killed at the dance hall.", "2026-06-15T08:00:00Z",
                           [("Dunmore", "city"), ("Ohio", "region")], killed=3)  # fmt: skip
    assert story.match(elsewhere, [s], follow_up=timedelta(days=730)) is None


def test_two_people_named_in_both_outweigh_a_place_the_gazetteer_cannot_relate() -> None:
    # The county named in one lead holds the town of the other: not a conflict of places we can tell.
    first = _in_places("pp1", "Two wounded outside corner store", "In Dunmore, " + FIRST_REPORT[1],
                       "2026-05-01T22:00:00Z", [("Dunmore", "city")], injured=2)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=365)
    text = "In Lackawanna County, prosecutors charged a man with wounding Tobias Wendell and Corey Lindqvist."
    both = _in_places("pp2", "Man charged over store attack", text, "2026-06-01T10:00:00Z",
                      [("Lackawanna County", "county")], injured=2)  # fmt: skip
    assert story._place_conflict(both, s.state)
    assert story.match(both, [s], follow_up=horizon) is s and story.keys(both) & story.story_keys(s.state)
    one = _in_places("pp3", "Man charged over store attack", "In Lackawanna County, prosecutors charged a man "
                     "with wounding Tobias Wendell.", "2026-06-01T10:00:00Z",
                     [("Lackawanna County", "county")], injured=2)  # fmt: skip
    assert story.match(one, [s], follow_up=horizon) is None  # one name in another place: not enough


def test_a_childs_age_on_the_same_stated_day_joins_where_one_side_names_no_city() -> None:
    first = _in_city("Tacoma", "ch1", "Boy hurt at home", "In Tacoma, a 4-year-old boy was hurt at home on Saturday "
                     "when a gun went off.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)

    def second(slug: str, age: int) -> story.ArticleView:
        return _report(slug, "Gun safety plea after accident", f"A {age}-year-old was hurt on Saturday when a gun "
                       "went off, deputies said.", "2026-06-08T08:00:00Z", figures={"injured": {"count": 1}})  # fmt: skip

    assert story.match(second("ch2", 4), [s]) is s and story.keys(second("ch2", 4)) & story.story_keys(s.state)
    teen = _story_of(_in_city("Tacoma", "tn1", "Teen hurt at home", "In Tacoma, a 16-year-old boy was hurt at home "
                              "on Saturday when a gun went off.", "2026-06-07T08:00:00Z", injured=1))  # fmt: skip
    assert story.match(second("tn2", 16), [teen]) is None  # a teenager shot that day, somewhere: not rare


def test_a_childs_age_told_by_another_outlet_on_the_same_day_in_the_city_joins_whatever_the_tolls() -> None:
    first = _in_city("Tacoma", "cd1", "Girl wounded in drive-by", "In Tacoma, a 3-year-old girl was wounded in a "
                     "drive-by on Saturday night.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)

    def later(slug: str, age: int, day: str) -> story.ArticleView:
        return _in_city("Tacoma", slug, "Family mourns", f"In Tacoma, the family of a {age}-year-old shot on {day} "
                        "night mourned her death.", "2026-06-08T08:00:00Z", killed=1)  # fmt: skip

    assert story.match(later("cd2", 3, "Saturday"), [s]) is s  # she died: the toll read differs
    assert story.match(later("cd3", 30, "Saturday"), [s]) is None  # an adult
    assert story.match(later("cd4", 3, "Sunday"), [s]) is None  # another day


def test_a_childs_age_and_the_day_named_follow_up_in_the_city_whatever_the_toll() -> None:
    first = _in_city("Tacoma", "cf1", "Girl wounded in drive-by", "In Tacoma, a 3-year-old girl was wounded in a "
                     "drive-by on Saturday night.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)

    def later(slug: str, age: int, date: str) -> story.ArticleView:
        return _in_city("Tacoma", slug, "Girl dies weeks after shooting", f"In Tacoma, a {age}-year-old wounded in "
                        f"the {date} drive-by has died.", "2026-07-01T08:00:00Z", killed=1)  # fmt: skip

    assert story.match(later("cf2", 3, "June 6"), [s], follow_up=horizon) is s
    assert story.keys(later("cf2", 3, "June 6")) & story.story_keys(s.state)
    assert story.match(later("cf3", 3, "June 9"), [s], follow_up=horizon) is None  # another day
    assert story.match(later("cf4", 33, "June 6"), [s], follow_up=horizon) is None  # an adult


def test_a_childs_age_told_by_another_outlet_with_the_toll_in_the_city_follows_up_soon_after() -> None:
    first = _in_city("Tacoma", "af1", "Boy wounded near food truck", "In Tacoma, a 9-year-old boy was wounded near "
                     "a food truck, police said.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    horizon = timedelta(days=730)

    def later(slug: str, at: str, age: str = "9-year-old", **toll: int) -> story.ArticleView:
        return _in_city("Tacoma", slug, "Arrest made", f"In Tacoma, police arrested a man over the wounding of a "
                        f"{age}.", at, **(toll or {"injured": 1}))  # fmt: skip

    soon = later("af2", "2026-06-15T08:00:00Z")
    assert story.expired(soon, s) and story.match(soon, [s], follow_up=horizon) is s
    assert story.keys(soon) & story.story_keys(s.state)
    # The wounded child who died: the same people counted otherwise.
    assert story.match(later("af4", "2026-06-16T08:00:00Z", killed=1), [s], follow_up=horizon) is s
    assert story.match(later("af3", "2026-08-15T08:00:00Z"), [s], follow_up=horizon) is None  # months on: anyone
    # A teenager or an adult hurt in a city is news every week: an age of 19 alone is no follow-up.
    adult = _in_city("Tacoma", "af5", "Man wounded near food truck", "In Tacoma, a 19-year-old man was wounded "
                     "near a food truck, police said.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    assert (
        story.match(later("af6", "2026-06-15T08:00:00Z", "19-year-old"), [_story_of(adult)], follow_up=horizon) is None
    )


def test_a_roundup_of_childrens_shootings_is_no_follow_up_of_one() -> None:
    first = _in_city("Tacoma", "rc1", "Boy wounded near food truck", "In Tacoma, a 5-year-old boy was wounded near "
                     "a food truck, police said.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    roundup = _in_city("Tacoma", "rc2", "Children shot in three incidents this week", "In Tacoma, a 3-year-old, a 5-year-old "
                       "and a 6-year-old were shot this week.", "2026-06-15T08:00:00Z", injured=1)  # fmt: skip
    assert story.match(roundup, [_story_of(first)], follow_up=timedelta(days=730)) is None


def test_the_storys_city_in_a_headline_stands_for_a_lead_that_names_none() -> None:
    first = _in_city("Tacoma", "hc1", "Girl wounded in drive-by", "In Tacoma, an 8-year-old girl was wounded in a "
                     "drive-by, police said.", "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    later = story.view(_payload("hc2", "Girl, 8, dies a week after drive-by in Tacoma", "The "
                                "8-year-old girl died on Monday, her family said.", "2026-06-15T08:00:00Z",
                                figures={"killed": {"count": 1}}))  # fmt: skip
    assert not later.lead_places
    assert story.match(later, [_story_of(first)], follow_up=timedelta(days=730)) is not None


def test_where_the_story_states_no_day_the_day_of_its_first_report_is_the_day_named() -> None:
    first = _in_city("Tacoma", "fd1", "Boy wounded", "In Tacoma, a 4-year-old boy was wounded, police said.",
                     "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)
    assert first.event_day is None
    later = _in_city("Tacoma", "fd2", "Boy dies", "In Tacoma, a 4-year-old shot on June 7 has died.",
                     "2026-07-20T08:00:00Z", killed=1)  # fmt: skip
    assert story.match(later, [s], follow_up=timedelta(days=730)) is s
    other = _in_city("Tacoma", "fd3", "Boy dies", "In Tacoma, a 4-year-old shot on June 12 has died.",
                     "2026-07-20T08:00:00Z", killed=1)  # fmt: skip
    assert story.match(other, [s], follow_up=timedelta(days=730)) is None


def test_an_institution_written_with_a_possessive_or_a_charge_is_no_person() -> None:
    v = story.view(_payload("ip1", "Boy shot", "The boy was taken to Children's Clinic of Corwen. Jon Roe "
                            "faces Reckless Conduct counts; Childrenâ€™s Mercy said.", "2026-06-07T08:00:00Z"))  # fmt: skip
    assert v.people == {"jon roe"}, v.people


def test_pronouns_are_no_headline_words() -> None:
    v = story.view(_payload("pn1", "Family drives boy to clinic after he was shot in Corwen", "A boy was shot.",
                            "2026-06-07T08:00:00Z"))  # fmt: skip
    assert (
        "he" not in v.title_words
        and "him"
        not in story.view(_payload("pn2", "Cousin shoots him in the arm", "x", "2026-06-07T08:00:00Z")).title_words
    )


def test_an_age_in_words_or_capitalised_in_a_headline_is_an_age() -> None:
    v = _in_city("Tacoma", "aw1", "Sixteen-Year-Old Girl Shot", "In Tacoma, a girl was shot on Friday.",
                 "2026-06-07T08:00:00Z", injured=1)  # fmt: skip
    assert v.ages == frozenset({"16"})
    w = _payload("aw2", "16-Year-Old Hurt In Crossfire", "Police said Jane Roe, 31, called.", "2026-06-07T08:00:00Z")
    assert story.view(w).ages == frozenset({"16", "31"})


def test_a_place_that_names_a_park_or_a_school_is_not_the_place() -> None:
    v = _placed(
        "Teen hurt near school",
        "A teen was hurt outside Washington Park High School on Friday.",
        [("Washington", "city", "US")],
    )
    assert v.places == frozenset()


def test_the_same_toll_on_the_same_stated_day_joins_where_one_lead_names_no_city_and_its_text_names_the_others() -> (
    None
):
    first = _in_city("Corwen", "nl1", "Man killed outside bar", "In Corwen, a man was killed outside a bar on "
                     "Saturday night, police said.", "2026-06-07T08:00:00Z", killed=1)  # fmt: skip
    s = _story_of(first)
    lead = "A man was killed outside a bar on Saturday night, and friends gathered on Sunday to remember him. " * 5

    def second(slug: str, city: str) -> story.ArticleView:
        return _in_places(slug, "Friends remember bar regular", lead + f"The bar in {city} reopened on Sunday.",
                          "2026-06-08T08:00:00Z", [(city, "city")], killed=1)  # fmt: skip

    assert second("nl2", "Corwen").lead_places == frozenset()  # named only after the first lines
    assert story.match(second("nl2", "Corwen"), [s]) is s and story.keys(second("nl2", "Corwen")) & story.story_keys(
        s.state
    )
    assert story.match(second("nl3", "Elmira"), [s]) is None  # another city


def test_two_ages_told_by_another_outlet_on_the_same_day_with_a_headline_word_join_whatever_the_tolls() -> None:
    first = _report("ta1", "Four wounded outside Harbor Street deli", "Four people were wounded outside a deli on "
                    "Wednesday afternoon; among them a 24-year-old and a 43-year-old.", "2026-06-10T20:00:00Z",
                    figures={"injured": {"count": 4}})  # fmt: skip
    s = _story_of(first)

    def second(slug: str, ages: tuple[int, int]) -> story.ArticleView:
        return _report(slug, "Gunfire near Harbor leaves neighbours shaken", f"A {ages[0]}-year-old and a "
                       f"{ages[1]}-year-old were among those hurt on Wednesday.", "2026-06-11T08:00:00Z",
                       figures={"injured": {"count": 1}})  # fmt: skip

    assert story.match(second("ta2", (24, 43)), [s]) is s  # the toll read differs
    assert story.match(second("ta3", (24, 51)), [s]) is None  # one adult's age is every day's news


def test_a_victim_counted_once_as_hurt_once_as_killed_is_the_same_people_for_an_age() -> None:
    first = _in_city("Corwen", "cv1", "Teen wounded outside Corwen arcade", "In Corwen, a 17-year-old was wounded "
                     "outside an arcade on Friday.", "2026-06-05T22:00:00Z", injured=1)  # fmt: skip
    s = _story_of(first)

    def later(slug: str, at: str, age: int, **figures: int) -> story.ArticleView:
        return _in_city("Corwen", slug, "Family asks for calm", f"In Corwen, the {age}-year-old hurt on Friday has "
                        "died, his family said.", at, **figures)  # fmt: skip

    # In the window, another outlet: the wounded teen who died is the same one person.
    assert story.match(later("cv2", "2026-06-07T08:00:00Z", 17, killed=1), [s]) is s
    assert story.match(later("cv3", "2026-06-07T08:00:00Z", 23, killed=1), [s]) is None  # another age
    assert story.match(later("cv4", "2026-06-07T08:00:00Z", 17, killed=2), [s]) is None  # more people
    # After the window, with the day it happened named.
    horizon = timedelta(days=730)
    late = _in_city("Corwen", "cv5", "Family asks for calm", "In Corwen, the 17-year-old hurt in the June 5 "
                    "shooting has died, his family said.", "2026-06-30T08:00:00Z", killed=1)  # fmt: skip
    assert story.match(late, [s], follow_up=horizon) is s and story.keys(late) & story.story_keys(s.state)
    assert story._same_people((1, None), [[None, 1]]) == 2
    assert story._same_people((2, None), [[None, 1]]) == 0  # more people


def test_a_person_spelt_otherwise_or_with_a_possessive_is_the_same_person() -> None:
    first = _report("sp1", *FIRST_REPORT, "2026-05-01T22:00:00Z", figures={"injured": {"count": 2}})
    s = _story_of(first)

    def second(slug: str, name: str) -> story.ArticleView:
        return _report(slug, "Families ask for calm", f"Relatives of {name} gathered on Saturday; they asked "
                       "anyone who saw the sedan to call deputies.", "2026-05-02T09:00:00Z",
                       figures={"injured": {"count": 2}})  # fmt: skip

    for name in ("Tobias Wendell’s brother", "Tobyas Wendell", "Tobias Wendel", "Tobias Wen'dell"):
        v = second("sp-" + name[:9], name)
        assert story.match(v, [s]) is s, name
        assert story.keys(v) & story.story_keys(s.state), name
    for name in ("Marcus Wendell", "Tobias Werner", "Tabitha Wendell"):  # another person
        assert story.match(second("sp-" + name[:9], name), [s]) is None, name
    assert story_words._name_stem("De’Shaun", "en") == story_words._name_stem("DeShaun", "en")


def test_a_city_one_lead_names_and_the_others_headline_names_is_a_shared_place() -> None:
    first = _in_city("Brackley", "bh1", "Three hurt outside arcade", "In Brackley, three people were hurt outside "
                     "an arcade, police said.", "2026-06-07T08:00:00Z", injured=3)  # fmt: skip
    s = _story_of(first)

    def second(slug: str, title: str) -> story.ArticleView:  # its places not found: none given
        return _report(slug, title, "Three people were hurt late on Saturday, police said.", "2026-06-07T20:00:00Z",
                       figures={"injured": {"count": 3}})  # fmt: skip

    v = second("bh2", "Three wounded in Brackley")
    assert not v.places and story.match(v, [s]) is s and story.keys(v) & story.story_keys(s.state)
    assert story.match(second("bh3", "Three wounded in Corwen"), [s]) is None


def test_one_city_read_in_two_countries_is_no_conflict_of_countries() -> None:
    def report(slug: str, code: str, at: str) -> story.ArticleView:
        places = [{"name": "Naples", "country_code": code, "kind": "city"}]
        return story.view(_payload(slug, "Teen wounded at Naples mall", "In Naples, a teen was wounded at a mall "
                                   "on Friday, police said.", at, places=places,
                                   figures={"injured": {"count": 1}}))  # fmt: skip

    # Read as Italy's where the text names no other US place, as the US town's where it does.
    s = _story_of(report("np1", "IT", "2026-06-05T22:00:00Z"))
    assert story.match(report("np2", "US", "2026-06-06T09:00:00Z"), [s]) is s
    assert not story._other_country(report("np2", "US", "2026-06-06T09:00:00Z"), s.state)
    elsewhere = story.view(_payload("np3", "Teen wounded at mall", "A teen was wounded at a mall.",
                                    "2026-06-06T09:00:00Z", places=[{"name": "Lecce", "country_code": "GR",
                                    "kind": "city"}]))  # fmt: skip
    assert story._other_country(elsewhere, s.state)  # no city in common: other countries
