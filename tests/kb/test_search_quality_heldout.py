"""Search quality on questions written by someone who never read the articles' bodies
(``search_quality_heldout.jsonl``: paraphrase, dialect, mixed script, synonyms, questions).

The set is split in two by ``quality.split_heldout``: the fusion weights and floors of
``helpdesk/search/hybrid.py`` were chosen on the development half with ``tests/kb/tune_fusion.py``;
this test runs the other half, and a second writer's questions (below). ``pytest -s`` prints
recall@1, recall@3 and MRR per language and kind, by words only and by words and meaning.
"""

import json

import pytest

from helpdesk.demo.loader import CONTENT
from helpdesk.kb import service
from tests.kb.quality import load_demo_articles, rank_of, read_queries, report, split_heldout

HELDOUT = read_queries("search_quality_heldout.jsonl")
DEV, TEST = split_heldout(HELDOUT)
TARGET_RECALL_AT_3 = 0.92  # per language, on the test half
# Measured on the test half with the demo articles' phrasings (from the 76 queries and the
# development half; weights cross-validated on the development half): words and meaning ar 0.885,
# en 0.873 (PostgreSQL's backend: ar 0.872; before phrasings 0.846 / 0.835): a drop below these
# floors is a regression. The model's arithmetic differs a little between processors (an AMD EPYC
# with AVX-512 moved one Arabic question across the edge of the top 3), and a change of the
# passages' text moves a question or two either way (dropping the space markdown's inline markup
# left before punctuation: Arabic 0.859 → 0.885, English 0.886 → 0.873, the development half
# unchanged), so each floor is one question below the lower of the two backends' figures.
FLOOR_RECALL_AT_3 = {"ar": 0.85, "en": 0.86}


# A second writer's questions (``search_quality_dev2.jsonl``, 316: written later, given only each
# article's title, by someone who saw neither the articles nor the first writer's questions). None
# is a phrasing of the demo articles. They are a development set: tune_fusion's ``--queries``
# measures them (with ``--cv`` beside the development half); the test half above stays the untouched
# one. Measured before any tuning on them, on both backends: ar 0.925, en 0.898, about the level of
# the test half. The floors are one question below. English's own fusion settings
# (``hybrid.FUSIONS``) were then chosen on them and the development half: English 0.898 → 0.924.
SECOND_WRITER = read_queries("search_quality_dev2.jsonl")
SECOND_WRITER_FLOOR_RECALL_AT_3 = {"ar": 0.91, "en": 0.91}


def ranks(cases: list[dict]) -> list[int | None]:
    found = []
    for case in cases:
        hits = service.search_articles(case["query"], locale=case["locale"], limit=10).hits
        found.append(rank_of(case["expected"], [h.slug for h in hits]))
    return found


def test_the_heldout_set_is_split_in_halves_per_language_and_kind():
    assert len(HELDOUT) >= 240
    assert {c["query"] for c in DEV}.isdisjoint({c["query"] for c in TEST})
    assert split_heldout(list(reversed(HELDOUT))) == (DEV, TEST)  # order of the file does not matter
    for locale in ("ar", "en"):
        dev = sum(c["locale"] == locale for c in DEV)
        test = sum(c["locale"] == locale for c in TEST)
        assert abs(dev - test) <= 5, locale
    assert {c["kind"] for c in TEST} == {"paraphrase", "dialect", "mixed", "synonym", "question"}


def test_no_test_question_is_a_phrasing_of_the_demo_articles():
    """The demo articles' phrasings come from the 76 queries and the development half only
    (``tune_fusion.demo_phrasings``); counted, never listed, so a failure shows no test question."""
    lines = (CONTENT / "kb_articles.jsonl").read_text(encoding="utf-8").splitlines()
    phrasings = {
        p.casefold() for line in lines if line.strip() for p in json.loads(line).get("phrasings", [])
    }
    assert phrasings, "the demo articles have phrasings"
    leaked = sum(case["query"].casefold() in phrasings for case in TEST)
    assert leaked == 0


def test_heldout_test_half_by_words_and_meaning(app):
    """The test half, and the second writer's questions (one load of the articles for both: it
    embeds every passage, half a minute)."""
    load_demo_articles()
    measured = {}
    for cases, title, floors in (
        (SECOND_WRITER, "second writer", SECOND_WRITER_FLOOR_RECALL_AT_3),
        (TEST, "held-out test half", FLOOR_RECALL_AT_3),
    ):
        hybrid_ranks = ranks(cases)
        app.config["SEARCH_EMBEDDINGS"] = False
        words_ranks = ranks(cases)
        app.config["SEARCH_EMBEDDINGS"] = True
        words = report(cases, words_ranks, f"{title}, words only (with the lexicon)")
        both = measured[title] = report(cases, hybrid_ranks, f"{title}, words and meaning")
        for locale, floor in floors.items():
            assert both[locale]["recall@3"] >= floor, (title, locale)
            assert both[locale]["MRR"] > words[locale]["MRR"], (title, locale)
    both = measured["held-out test half"]  # the target is the test half's
    missed = [locale for locale in ("ar", "en") if both[locale]["recall@3"] < TARGET_RECALL_AT_3]
    if missed:
        pytest.xfail(
            f"recall@3 below the {TARGET_RECALL_AT_3} target for {', '.join(missed)}: "
            + ", ".join(f"{loc} {both[loc]['recall@3']:.3f}" for loc in ("ar", "en"))
        )


def test_the_second_writers_questions_are_new():
    first = {c["query"].casefold() for c in [*HELDOUT, *read_queries("search_quality_queries.jsonl")]}
    assert len(SECOND_WRITER) >= 300
    assert all(c["query"].casefold() not in first for c in SECOND_WRITER)
    assert {c["locale"] for c in SECOND_WRITER} == {"ar", "en"}
