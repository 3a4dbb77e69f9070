"""Two more sets written by others (helpers given only the articles' topics, never the articles or
the code), about what the held-out questions do not measure:

- ``search_gap_queries*.jsonl``: 2 × 120 questions we have no article for (other services, small
  talk, words of an article's topic meaning something else). A result found by meaning alone there
  is noise, and hides the content gap from the editors. The first set chose the hubness correction
  (``dense.HUB_WEIGHT``); the held-out one is measured here.
- ``suggested_answers_messages.jsonl``: 200 whole messages as customers send them (greetings,
  order numbers, several sentences, dialect, Arabizi), each answered by one article. Split in two
  halves by a hash; the development half was read, the test half is measured here, through real
  tickets and the agent page's ``suggested_answers``.

``pytest -s`` prints the figures.
"""

import hashlib

from helpdesk.agents.suggestions import suggested_answers
from helpdesk.search import hybrid
from tests.factories import make_customer, make_ticket
from tests.kb.quality import load_demo_articles, read_queries

GAPS = read_queries("search_gap_queries_heldout.jsonl")
# Measured on the held-out gap set: 24 of 120 (PostgreSQL 25) had a result found by meaning alone
# among their top 3 (44 before the hubness correction and before stop words alone stopped asking
# the model; 31 before the second writer's phrasings and today's fusion).
MOST_FOUND_BY_MEANING_ALONE = 31
MESSAGES = read_queries("suggested_answers_messages.jsonl")
# Measured on the test half: the expected article among the 3 suggested, ar 55 of 56 (0.982),
# en 52 of 52, on both backends (54 and 50 before the second writer's phrasings and today's
# fusion). One message below each.
FLOOR_SUGGESTED_AT_3 = {"ar": 0.96, "en": 0.98}


def in_test_half(case: dict) -> bool:
    return int(hashlib.sha256(case["message"].encode()).hexdigest(), 16) % 2 == 1


def test_questions_we_have_no_article_for_rarely_find_one_by_meaning_alone(app):
    load_demo_articles()
    assert len(GAPS) == 120
    found_by_meaning = 0
    found = 0
    for case in GAPS:
        signals = hybrid.signals("articles", case["query"], case["locale"], {"status": "published"})
        ranked = hybrid.fused(
            signals.lexical,
            signals.meaning,
            hybrid.fusion_for(case["locale"]),
            signals.other_language,
            signals.questions,
        )[:3]
        found += bool(ranked)
        words = signals.lexical.keys() | signals.other_language.keys()
        found_by_meaning += any(doc_id not in words for doc_id, _score in ranked)
    print(f"\ncontent gaps: {found} of {len(GAPS)} found something, {found_by_meaning} by meaning alone")
    assert found_by_meaning <= MOST_FOUND_BY_MEANING_ALONE


def test_suggested_answers_on_whole_customer_messages(app):
    load_demo_articles()
    cases = [case for case in MESSAGES if in_test_half(case)]
    assert len(MESSAGES) == 200 and 90 <= len(cases) <= 110
    customer = make_customer()
    found: dict[str, list[int | None]] = {"ar": [], "en": []}
    for n, case in enumerate(cases):
        ticket = make_ticket(customer=customer, subject=f"#{n}", body=case["message"])
        with app.test_request_context():  # the suggestions carry the articles' addresses
            slugs = [article.slug for article, _url in suggested_answers(ticket).articles]
        found[case["locale"]].append(slugs.index(case["expected"]) + 1 if case["expected"] in slugs else None)
    for locale, ranks in found.items():
        at_1 = sum(rank == 1 for rank in ranks) / len(ranks)
        at_3 = sum(rank is not None for rank in ranks) / len(ranks)
        print(f"\nsuggested answers, {locale}: n={len(ranks)} recall@1 {at_1:.3f} recall@3 {at_3:.3f}")
        assert at_3 >= FLOOR_SUGGESTED_AT_3[locale], locale
