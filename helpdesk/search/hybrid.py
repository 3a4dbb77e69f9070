"""Search by words and by meaning at once, one ranked list.

Words (Whoosh, with the dialect lexicon's expansions) are precise: a product name, an order
number, the word the article uses. Meaning (passage vectors, see ``dense.py``) finds the article
when the customer says it in their own words or dialect. Each side's score is scaled to 0–1 and
the two are added with weights chosen on the development half of the held-out quality set
(``tests/kb/test_search_quality_heldout.py``); a document found by meaning alone must clear a
similarity floor, so a query about nothing we have still finds nothing (a content gap).

Without the model (or its vectors) this is the lexical search as before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from helpdesk.search import analysis, dense, embeddings, lexicon, pg
from helpdesk.search.backend import uses_postgres
from helpdesk.search.indexer import search_where, searcher
from helpdesk.search.querying import Hit, SearchResults, build_query
from helpdesk.search.registry import index_spec

CANDIDATES = 30  # from each side, before fusion


@dataclass(frozen=True)
class Fusion:
    """How the two scores are combined (see ``fused``); tuned on the development split."""

    lexical_weight: float = 0.3
    lexical_half: float | None = 10.0  # BM25 s → s / (s + half); None: s / the query's best s
    dense_low: float = 0.70  # absolute scaling: cosines below this count as 0 …
    dense_high: float = 0.88  # … and above this as 1
    dense_width: float | None = None  # relative scaling instead: 1 - (best cosine - cosine) / width
    # A document no word matched must be at least this close in meaning: e5 gives unrelated text
    # 0.75–0.85, so this keeps most nonsense out (content gaps stay visible), not all of it.
    dense_only_min: float = 0.82
    # Words found in another language's version of a document (the Latin words of an Arabic
    # query, an Arabic question in the English portal) count this much towards the reader's own.
    other_language_weight: float = 1.0
    embed_lexicon_words: bool = True  # the query's vector reads the lexicon's words too
    # An article's phrasings (questions in customers' words) by meaning: how far the nearest one
    # stands out from all of them (``dense.nearest_questions``, in standard deviations), scaled
    # linearly from question_low–question_high to 0–1; the meaning side takes the better of this
    # and the article's own passages. A document no word matched needs question_only_min.
    question_low: float = 2.5
    question_high: float = 3.5
    question_only_min: float = 3.5
    # 0: the meaning side is the better of passages and phrasings. Above 0: the phrasings are a
    # third signal of this weight, added (a passage's scaled cosine is often at its ceiling of 1,
    # where the better of the two could not tell articles apart); the sum is scaled back to 0–1.
    question_weight: float = 0.1

    @property
    def dense_weight(self) -> float:
        return 1.0 - self.lexical_weight


# Chosen with ``tune_fusion --cv`` on both development sets (the first writer's half and the second
# writer's, each fold searched without its own questions as phrasings), against the settings before
# (relative cosine scaling, a steeper BM25 curve, phrasings weighing more): recall@3 ar 0.934 → 0.959,
# en 0.962 → 0.971 (MRR ar 0.869 → 0.865, en 0.905 → 0.904).
FUSION = Fusion(lexical_half=4.0, dense_width=0.12, question_low=2.0, question_high=3.0, question_weight=0.3)
# English, whose phrasings the model reads better, takes a phrasing that stands out less.
FUSIONS = {"en": replace(FUSION, question_low=1.5, question_high=4.5)}


def fusion_for(locale: str | None) -> Fusion:
    """The fusion settings of a search in ``locale`` (``FUSION`` without one)."""
    return FUSIONS.get(locale or "", FUSION)


def fused(
    lexical: dict[str, float],
    meaning: dict[str, float],
    fusion: Fusion = FUSION,
    other_language: dict[str, float] | None = None,
    questions: dict[str, float] | None = None,
) -> list[tuple[str, float]]:
    """(doc id, fused score), best first, from raw lexical scores (own language, and mapped from
    the other language's versions), best-passage cosines and how far the nearest phrasing stands
    out (``questions``)."""
    questions = questions or {}
    if other_language and fusion.other_language_weight > 0:
        lexical = dict(lexical)
        for doc_id, raw in other_language.items():
            lexical[doc_id] = max(lexical.get(doc_id, 0.0), fusion.other_language_weight * raw)
    top_lexical = max(lexical.values(), default=0.0)
    top_cosine = max(meaning.values(), default=0.0)
    scores: dict[str, float] = {}
    for doc_id in lexical.keys() | meaning.keys() | questions.keys():
        if (
            doc_id not in lexical
            and meaning.get(doc_id, 0.0) < fusion.dense_only_min
            and questions.get(doc_id, 0.0) < fusion.question_only_min
        ):
            continue
        raw = lexical.get(doc_id, 0.0)
        if fusion.lexical_half is None:
            words = raw / top_lexical if top_lexical > 0 else 0.0
        else:
            words = raw / (raw + fusion.lexical_half) if raw > 0 else 0.0
        sense = 0.0
        if doc_id in meaning:
            cosine = meaning[doc_id]
            if fusion.dense_width is not None:
                sense = 1.0 - (top_cosine - cosine) / fusion.dense_width
            else:
                sense = (cosine - fusion.dense_low) / (fusion.dense_high - fusion.dense_low)
            sense = min(1.0, max(0.0, sense))
        asked = 0.0
        if doc_id in questions:
            asked = (questions[doc_id] - fusion.question_low) / (fusion.question_high - fusion.question_low)
            asked = min(1.0, max(0.0, asked))
            if not fusion.question_weight:
                sense = max(sense, asked)
        total = fusion.lexical_weight * words + fusion.dense_weight * sense + fusion.question_weight * asked
        scores[doc_id] = total / (1.0 + fusion.question_weight)  # 0–1 as before
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class Signals:
    """Both sides' candidates for one query, before fusion."""

    lexical: dict[str, float]  # doc id → BM25 score
    other_language: dict[str, float]  # doc id → BM25 score of its version in another language
    meaning: dict[str, float]  # doc id → cosine of its best passage
    questions: dict[str, float]  # doc id → how far its nearest phrasing stands out (see ``fused``)
    built: object | None  # the Whoosh query, or pg.Built (for highlighting)
    results: list | None  # the Whoosh hits, or pg.Found, best first
    suggestion: str | None
    conditions: dict[str, str]


def signals(
    index: str,
    text: str,
    locale: str | None = None,
    filters: dict[str, str] | None = None,
    *,
    as_you_type: bool = False,
    candidates: int = CANDIDATES,
    expand: bool = True,
    fusion: Fusion = FUSION,
    meanwhile: Callable[[Signals, Callable[[], bool]], None] | None = None,
) -> Signals:
    """The lexical and dense candidates of ``text`` (the quality test tunes ``fused`` on these).
    ``expand=False`` leaves out the lexicon (to measure what it adds). ``meanwhile`` is given the
    words' side (``meaning`` still empty) while the question's vector is being computed, if the
    model leaves a core free, and a function that tells when the vector is done."""
    expansions = (lambda words: lexicon.expansions(words, locale)) if expand else None
    # The question's vector is computed on another core while the words are searched here. Text of
    # stop words only ("thanks", "السلام عليكم", "how do i") asks nothing: the model would still
    # find its nearest article.
    vector_of_text = (
        embeddings.start_query(_text_for_meaning(text, locale, as_you_type, expand, fusion))
        if dense.dense_spec(index) is not None and any(map(analysis.word_terms, analysis.words(text)))
        else None
    )
    postgres = uses_postgres()
    if postgres:
        built, frequencies = pg.build(index, text, as_you_type=as_you_type, expand=expansions)
        suggestion = built.suggestion if built is not None else None
    else:
        built, suggestion = build_query(index, text, as_you_type=as_you_type, expand=expansions)
    conditions = dict(filters or {})
    if locale:
        conditions["locale"] = locale
    # With a language, the words are searched in every language at once: what matched another
    # language's version of a document counts for the reader's version (see ``fused``).
    across = bool(locale) and dense.dense_spec(index) is not None
    lexical: dict[str, float] = {}
    elsewhere: dict[str, float] = {}
    results = None
    if built is not None and postgres:
        searched = {k: v for k, v in conditions.items() if not (across and k == "locale")}
        limit = candidates * 2 if across else candidates
        results = pg.search(index, built, frequencies, searched, limit)
        for r in results:
            own = not across or r.fields.get("locale", locale) == locale
            (lexical if own else elsewhere)[r.id] = r.score
    elif built is not None:
        searched = {k: v for k, v in conditions.items() if not (across and k == "locale")}
        limit = candidates * 2 if across else candidates
        # Without ``terms=True`` (which terms matched each document): that costs a loop over every
        # term of the query at each match, a third of the search; snippets mark the query's terms.
        # The hits, made once: Whoosh's results make a new hit, which reads its stored fields again,
        # each time they are gone through.
        whole = search_where(index, built, limit, searched)
        results = list(iter(whole)) if whole is not None else []  # iter: no len(), which counts all
        for r in results:
            (lexical if not across or r.get("locale", locale) == locale else elsewhere)[r["id"]] = r.score
    other_language: dict[str, float] = {}
    if elsewhere:
        for doc_id, own in dense.counterparts(index, elsewhere, locale).items():
            other_language[own] = max(other_language.get(own, 0.0), elsewhere[doc_id])
    found = Signals(lexical, other_language, {}, {}, built, results, suggestion, conditions)
    if vector_of_text is not None:
        if meanwhile is not None and not vector_of_text.done() and vector_of_text.spare_core:
            meanwhile(found, vector_of_text.done)
        vector = vector_of_text()
        if vector is not None:
            found.meaning, found.questions = dense.nearest_both(index, vector, conditions, limit=candidates)
    return found


def _text_for_meaning(text: str, locale: str | None, as_you_type: bool, expand: bool, fusion: Fusion) -> str:
    """What the model reads of the customer's text."""
    if as_you_type and text[-1:].isalnum() and len(text.split()) > 1:
        # While typing, the meaning of the whole words only: the word being typed is matched as a
        # prefix by the words' side, and each keystroke inside it finds the vector of the words
        # before it in the cache instead of costing a model call (10–30 ms).
        text = text.rsplit(None, 1)[0]
    if expand and fusion.embed_lexicon_words:
        # The model knows MSA and English better than dialect: it may read the lexicon's words.
        extra = lexicon.expansions(analysis.words(text), locale)
        text = " ".join([text, *(w for p in sorted(extra) for w in extra[p])])
    return text


def query(
    index: str,
    text: str,
    locale: str | None = None,
    limit: int = 10,
    filters: dict[str, str] | None = None,
    *,
    as_you_type: bool = False,
    fusion: Fusion | None = None,
    snippets: bool = True,
) -> SearchResults:
    """Like ``search.query`` (same hits, snippets, "did you mean"), ranked by words and meaning
    (``fusion``: the settings of ``locale`` unless given). ``snippets=False``: the hits' snippets
    are left empty, for a caller that shows only titles (highlighting is most of a hit's cost)."""
    fusion = fusion or fusion_for(locale)
    prepared: _Hits | None = None

    def prepare(words_side: Signals, vector_done: Callable[[], bool]) -> None:
        # While the model embeds the question on another core, the likeliest hits' fields and
        # snippets (the words' best first) are read here, until the vector is there.
        nonlocal prepared
        prepared = _hits_of(index, words_side)
        if snippets:
            prepared.prepare(limit * 2, until=vector_done)

    found = signals(
        index,
        text,
        locale,
        filters,
        as_you_type=as_you_type,
        candidates=max(CANDIDATES, limit),
        fusion=fusion,
        meanwhile=prepare,
    )
    if found.meaning:
        ranked = fused(found.lexical, found.meaning, fusion, found.other_language, found.questions)
    else:  # words only (no model or no vectors): today's scores
        ranked = sorted(found.lexical.items(), key=lambda item: -item[1])
    hits = prepared or _hits_of(index, found)
    hits.load([doc_id for doc_id, _s in ranked[: limit * 3]])
    chosen: list[tuple[str, float]] = []
    for doc_id, score in ranked:
        if len(chosen) >= limit:
            break
        if hits.fields(doc_id) is not None:
            chosen.append((doc_id, score))
    texts = None
    if snippets and hits.spec.snippet_texts:
        texts = hits.spec.snippet_texts([d for d, _s in chosen])
    return SearchResults(
        hits=[
            Hit(
                id=doc_id,
                score=round(score, 4),
                fields=hits.fields(doc_id),
                snippet=hits.snippet(doc_id, texts) if snippets else "",
            )
            for doc_id, score in chosen
        ],
        suggestion=found.suggestion,
    )


def _hits_of(index: str, found: Signals) -> _Hits:
    return _PostgresHits(index, found) if uses_postgres() else _WhooshHits(index, found)


class _Hits(ABC):
    """The stored fields and snippets of one search's documents, each read once."""

    def __init__(self, index: str, found: Signals) -> None:
        self.index = index
        self.spec = index_spec(index)
        self.conditions = found.conditions
        self._fields: dict[str, dict | None] = {}
        self._snippets: dict[str, str] = {}

    @abstractmethod
    def _stored(self, doc_id: str) -> dict | None:
        """The document's stored fields, whatever the search's conditions (None if it is gone)."""

    @abstractmethod
    def _terms(self, doc_id: str) -> Collection[str]:
        """The terms to mark in the document's snippet."""

    @abstractmethod
    def _by_words(self) -> list[str]:
        """The documents the words matched, best first."""

    @abstractmethod
    def load(self, doc_ids: list[str]) -> None:
        """Read the fields of these documents at once, where the backend can (before ``fields``)."""

    def fields(self, doc_id: str) -> dict | None:
        """The document's stored fields, or None if it is gone or does not match the search's
        conditions (the index is the authority on status and locale: vectors may lag an edit)."""
        if doc_id not in self._fields:
            stored = self._stored(doc_id)
            if stored is not None and any(stored.get(k) != v for k, v in self.conditions.items()):
                stored = None
            self._fields[doc_id] = stored
        return self._fields[doc_id]

    def snippet(self, doc_id: str, texts: dict[str, str] | None) -> str:
        if doc_id not in self._snippets:
            body = self.spec.snippet_source({**self.fields(doc_id), "id": doc_id}, texts)
            self._snippets[doc_id] = pg.snippet(body, self._terms(doc_id))
        return self._snippets[doc_id]

    def prepare(self, most: int, until: Callable[[], bool]) -> None:
        """Fields and snippets of the ``most`` best matches by words, ahead of the ranking, or fewer
        if ``until()`` comes true first. Not for an index whose snippets are cut from texts read
        from the database with the hits."""
        if self.spec.snippet_texts is not None:
            return
        ready = 0
        for doc_id in self._by_words():
            if ready >= most or until():
                break
            if self.fields(doc_id) is not None:
                self.snippet(doc_id, None)
                ready += 1


class _WhooshHits(_Hits):
    def __init__(self, index: str, found: Signals) -> None:
        super().__init__(index, found)
        self.searcher = searcher(index)
        self.by_id = {r["id"]: r for r in found.results or ()}  # best first
        # The query's terms in the index, prefixes expanded: what Whoosh would mark in each hit,
        # worked out once for the search instead of once a hit.
        self.terms: set[str] = set()
        if found.built is not None:
            field = self.spec.snippet_field
            existing = found.built.existing_terms(self.searcher.reader(), fieldname=field, expand=True)
            self.terms = {self.searcher.schema[field].from_bytes(t) for _f, t in existing}

    def load(self, doc_ids: list[str]) -> None:
        """Nothing: Whoosh reads a document's stored fields when they are asked for."""

    def _stored(self, doc_id: str) -> dict | None:
        hit = self.by_id.get(doc_id)
        return hit.fields() if hit is not None else self.searcher.document(id=doc_id)

    def _terms(self, doc_id: str) -> Collection[str]:
        return self.terms

    def _by_words(self) -> list[str]:
        return list(self.by_id)


class _PostgresHits(_Hits):
    """Fields from the documents table (those no word matched: in one query, ``load``); snippets
    marked with the terms each document matched or, found by meaning alone, any of the query's."""

    def __init__(self, index: str, found: Signals) -> None:
        super().__init__(index, found)
        self.by_id = {r.id: r for r in found.results or []}
        self.asked = {t for t, _b in found.built.exact} if found.built is not None else set()
        self.read: dict[str, dict] = {}

    def load(self, doc_ids: list[str]) -> None:
        self.read.update(pg.documents(self.index, [d for d in doc_ids if d not in self.by_id]))

    def _stored(self, doc_id: str) -> dict | None:
        return self.by_id[doc_id].fields if doc_id in self.by_id else self.read.get(doc_id)

    def _terms(self, doc_id: str) -> Collection[str]:
        return self.by_id[doc_id].terms if doc_id in self.by_id else self.asked

    def _by_words(self) -> list[str]:
        return sorted(self.by_id, key=lambda doc_id: -self.by_id[doc_id].score)
