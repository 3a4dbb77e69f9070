"""Search quality on questions written by someone who never read the articles' bodies
(``search_quality_heldout.jsonl``: paraphrase, dialect, mixed script, synonyms, questions).

The set is split in two by ``quality.split_heldout``: the fusion weights and floors of
``helpdesk/search/hybrid.py`` were chosen on the development half with ``tests/kb/tune_fusion.py``;
this test runs the other half, and a second writer's questions (below). ``pytest -s`` prints
recall@1, recall@3 and MRR per language and kind, by words only and by words and meaning.
"""

import json

from helpdesk import search
from helpdesk.demo.loader import CONTENT
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article
from tests.kb.quality import load_demo_articles, rank_of, read_queries, report, split_heldout

HELDOUT = read_queries("search_quality_heldout.jsonl")
DEV, TEST = split_heldout(HELDOUT)
TARGET_RECALL_AT_3 = 0.92  # per language, on the test half
# Measured on the test half, words and meaning, with the demo articles' phrasings (the 76 queries,
# the development half and the second writer's questions; the fusion cross-validated on both
# development sets): SQLite ar 0.949, en 0.962; PostgreSQL ar 0.962, en 0.962 (before the second
# writer's phrasings and today's fusion: 0.897 / 0.886; before any phrasings 0.846 / 0.835). The
# model's arithmetic differs a little between processors (an AMD EPYC with AVX-512 moved one Arabic
# question across the edge of the top 3), and a change of the passages' text moves a question or
# two either way, so each floor is one question below the lower of the two backends' figures.
FLOOR_RECALL_AT_3 = {"ar": 0.93, "en": 0.94}


# A second writer's questions (``search_quality_dev2.jsonl``, 316: written later, given only each
# article's title, by someone who saw neither the articles nor the first writer's questions). They
# are a development set, and phrasings of the demo articles too (what a shop gathers from the
# questions its customers asked: ``kb.service.phrasing_suggestions``); tune_fusion's ``--cv``
# measures each of its folds without that fold's phrasings. Here they are measured with all of
# their own phrasings taken out: ar 0.931, en 0.943 on both backends (0.925 / 0.936 before, with the
# earlier fusion; English 0.930 before lexicon entries prompted by three of their misses, so not
# independent). The floors are one question below the fusion's own figure.
SECOND_WRITER = read_queries("search_quality_dev2.jsonl")
SECOND_WRITER_FLOOR_RECALL_AT_3 = {"ar": 0.92, "en": 0.92}


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


def without_phrasings(cases: list[dict]) -> None:
    """The demo articles without ``cases``' questions among their phrasings, reindexed."""
    asked = {c["query"].casefold() for c in cases}
    for article in db.session.scalars(db.select(Article)):
        article.phrasings = [p for p in article.phrasings or [] if p.casefold() not in asked]
    db.session.commit()
    search.reindex()


def test_heldout_test_half_by_words_and_meaning(app):
    """The test half, then the second writer's questions with their phrasings taken out (one load
    of the articles for both: it embeds every passage, half a minute)."""
    load_demo_articles()
    measured = {}
    for cases, title, floors in (
        (TEST, "held-out test half", FLOOR_RECALL_AT_3),
        (SECOND_WRITER, "second writer", SECOND_WRITER_FLOOR_RECALL_AT_3),
    ):
        if cases is SECOND_WRITER:
            without_phrasings(SECOND_WRITER)
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
    for locale in ("ar", "en"):
        assert both[locale]["recall@3"] >= TARGET_RECALL_AT_3, locale


def test_the_second_writers_questions_are_new():
    first = {c["query"].casefold() for c in [*HELDOUT, *read_queries("search_quality_queries.jsonl")]}
    assert len(SECOND_WRITER) >= 300
    assert all(c["query"].casefold() not in first for c in SECOND_WRITER)
    assert {c["locale"] for c in SECOND_WRITER} == {"ar", "en"}
