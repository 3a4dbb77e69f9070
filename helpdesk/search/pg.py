"""The search indexes as PostgreSQL tables, for nodes on several hosts that share only the database.

Writing: a change to an indexed row is remembered on the session (the flush hook of
``indexer.py``); ``write_documents``, the receiver of ``events.committing``, writes its document
in that same transaction — a rolled-back change leaves nothing, a committed one is searchable at
once on every node, and there is no index writer to coordinate. The terms are OUR analyzer's
(normalisation, Arabic prefixes, stemming), written as a ``tsvector`` literal so PostgreSQL keeps
them as they are, with positions and one weight letter per group of equally boosted fields (A: the
most boosted). New words go to the vocabulary that "did you mean" searches with trigrams.

Searching: the GIN index finds the documents with any query term (``:*`` for the word being
typed), ``ts_rank_cd`` with the field weights picks the best few hundred (of at most
``RANKED_AT_MOST`` matches, the most recently written, so a common word costs the same at any
size and finds this week's tickets rather than the oldest), and those are scored
again in Python with the BM25F formula the Whoosh backend uses, so both rank alike and the
hybrid fusion, tuned on BM25 scores, fits both.
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any

import nh3
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TEXT, insert
from sqlalchemy.orm import Session
from whoosh import highlight
from whoosh.fields import ID
from whoosh.fields import TEXT as TEXT_FIELD

from helpdesk.extensions import db
from helpdesk.search import analysis
from helpdesk.search.backend import uses_postgres
from helpdesk.search.models import WRITTEN, SearchDocument, SearchWord
from helpdesk.search.registry import IndexSpec, index_spec

PENDING = "search_documents_pending"  # session.info: {(index name, doc id)} to write at commit
LETTERS = "ABCD"
MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
MAX_POSITIONS_PER_TERM = 255
MAX_TERM_CHARS = 200
MAX_WORD_CHARS = 100
CANDIDATES = 200  # picked by ts_rank_cd, then scored with BM25F
# ts_rank_cd reads each match's whole tsvector: "refund" matches a fifth of a million tickets, two
# seconds of reading. A query matching more than this ranks its most recently written this many
# (for a common word PostgreSQL walks ix_search_documents_written down and stops there).
RANKED_AT_MOST = 5_000
# A word in more documents than this is common anyway: counting on reads a row per match (at a
# fifth of the documents the planner scans the table; the LIMIT stops it early), so "refund" costs
# the same at 100,000 tickets as at a million.
DF_CAP = RANKED_AT_MOST
STATS_CACHED_FROM = 5_000  # documents; smaller indexes count their statistics at every search
STATS_MAX_AGE = 60.0  # seconds
STATS_SAMPLED = 20_000  # documents: a larger index's average lengths come from a sample this size
COMMON_WORDS_SHARE = 0.9  # of the table's rows: an index this large takes its common words' counts
PREFIX_BOOST = 0.5  # as the Whoosh backend's Prefix queries (a constant score per field)
FUZZY_MIN_LENGTH = 5
K1, B = 1.2, 0.75  # Whoosh's BM25F defaults
SNIPPET_CHARS = 180
LENGTHS = "_len"  # in ``fields``: tokens per weight letter, for BM25's length normalisation


# --- how an index's fields map onto one tsvector ------------------------------------------------


@dataclass(frozen=True)
class Layout:
    letters: dict[str, str]  # query field → its weight letter
    boosts: dict[str, float]  # weight letter → the fields' boost
    kept: frozenset[str]  # fields copied into ``fields``: stored ones and exact-match (ID) ones
    stored: frozenset[str]  # what a hit's ``fields`` shows (as Whoosh's stored fields)
    spelling: str | None  # the field whose words "did you mean" offers ("words")
    analyzers: dict[str, Any]

    @property
    def rank_weights(self) -> list[float]:
        """``ts_rank_cd``'s weights array, in its order {D, C, B, A}."""
        top = max(self.boosts.values())
        return [self.boosts.get(letter, 0.1) / top for letter in reversed(LETTERS)]


@lru_cache(maxsize=32)
def layout(name: str) -> Layout:
    spec = index_spec(name)
    schema = spec.schema()
    ranked = sorted(set(spec.query_fields.values()), reverse=True)
    letter_of = {boost: LETTERS[min(i, 3)] for i, boost in enumerate(ranked)}
    letters = {f: letter_of[b] for f, b in spec.query_fields.items()}
    boosts: dict[str, float] = {}
    for boost, letter in letter_of.items():
        boosts.setdefault(letter, boost)
    exact = {n for n, f in schema.items() if isinstance(f, ID)}
    stored = set(schema.stored_names())
    spelling = "words" if "words" in schema.names() and "words" not in letters else None
    analyzers = {n: f.analyzer for n, f in schema.items() if isinstance(f, TEXT_FIELD)}
    return Layout(letters, boosts, frozenset(exact | stored), frozenset(stored), spelling, analyzers)


def _tsvector(document: dict, shape: Layout) -> tuple[str, dict[str, int]]:
    """The document's query fields as a tsvector literal, and its token count per weight letter."""
    positions: dict[str, list[str]] = {}
    lengths: dict[str, int] = {}
    offset = 0
    for name, letter in shape.letters.items():
        value = document.get(name) or ""
        last = 0
        count = 0
        for token in shape.analyzers[name](value, positions=True):
            if len(token.text) > MAX_TERM_CHARS:
                continue
            last = token.pos
            count += 1
            found = positions.setdefault(token.text, [])
            if len(found) < MAX_POSITIONS_PER_TERM:
                found.append(f"{min(offset + token.pos + 1, MAX_POSITION)}{letter}")
        lengths[letter] = lengths.get(letter, 0) + count
        offset += last + 2  # a gap between fields: a phrase does not run across them
    literal = " ".join(f"'{_quoted(term)}':{','.join(at)}" for term, at in positions.items())
    return literal, lengths


def _quoted(term: str) -> str:
    return term.replace("\\", "\\\\").replace("'", "''")


def _named(index: str) -> str:
    """The index's name as an SQL literal (a registered name, never user input), so the planner
    sees it and picks a small index's own GIN index (``SMALL_INDEXES``) when it has one."""
    return "'" + index.replace("'", "''") + "'"


def _words_before(session: Session, index: str, doc_ids: list[str]) -> dict[str, set[str]]:
    rows = session.execute(
        text(
            "SELECT doc_id, tsvector_to_array(words) FROM search_documents"
            " WHERE index_name = :index AND doc_id = ANY(:ids)"
        ).bindparams(bindparam("ids", type_=ARRAY(TEXT))),
        {"index": index, "ids": doc_ids},
    )
    return {doc_id: set(words) for doc_id, words in rows}


def _vocabulary(document: dict, shape: Layout) -> set[str]:
    if shape.spelling is None:
        return set()
    analyzer = shape.analyzers[shape.spelling]
    return {t.text for t in analyzer(document.get(shape.spelling) or "") if len(t.text) <= MAX_WORD_CHARS}


# --- writing ---------------------------------------------------------------------------------------


def remember(session: Session, index: str, doc_id: int | str) -> None:
    """Write this document when the session's transaction commits."""
    session.info.setdefault(PENDING, set()).add((index, str(doc_id)))


def forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def write_documents(session: Session, published: list | None = None) -> None:
    """Receiver of ``events.committing``: the documents of the rows this transaction changed, as
    they are now (a deleted row or one its index leaves out loses its document)."""
    if not session.info.get(PENDING) and not (session.new or session.dirty or session.deleted):
        return
    if not uses_postgres(session):
        return
    for _round in range(3):  # writing loads rows; a flush may remember more
        session.flush()  # the commit would flush next anyway: its changes are remembered now
        pending = session.info.pop(PENDING, set())
        if not pending:
            return
        by_index: dict[str, set[str]] = {}
        for name, doc_id in pending:
            by_index.setdefault(name, set()).add(doc_id)
        for name, doc_ids in sorted(by_index.items()):
            try:
                spec = index_spec(name)
            except LookupError:
                continue
            ids = sorted(int(d) for d in doc_ids)
            rows = session.scalars(select(spec.model).where(spec.model.id.in_(ids))).all()
            documents: dict[str, dict | None] = dict.fromkeys(map(str, ids))
            for row in rows:
                documents[str(row.id)] = spec.document(row)
            store(session, spec, documents, rows)


def store(
    session: Session,
    spec: IndexSpec,
    documents: dict[str, dict | None],
    rows: Iterable[Any],
    *,
    fresh: bool = False,
) -> None:
    """Upsert (or delete, for None) these documents of ``spec``'s index, their words and vectors."""
    shape = layout(spec.name)
    before = _words_before(session, spec.name, list(documents)) if not fresh else {}
    gone = [doc_id for doc_id, doc in documents.items() if doc is None]
    if gone:
        session.execute(
            delete(SearchDocument).where(
                SearchDocument.index_name == spec.name, SearchDocument.doc_id.in_(gone)
            )
        )
    values = []
    words: set[str] = set()
    dropped: set[str] = set()
    for doc_id, document in documents.items():
        if document is None:
            dropped |= before.get(doc_id, set())
            continue
        literal, lengths = _tsvector(document, shape)
        # JSONB holds no NUL character (a hostile subject may carry one; the analyzer drops it).
        fields = {
            k: str(v).replace("\x00", "") for k, v in document.items() if k in shape.kept and v is not None
        }
        fields[LENGTHS] = lengths
        own = _vocabulary(document, shape)
        dropped |= before.get(doc_id, set()) - own
        listed = " ".join(f"'{_quoted(w)}'" for w in sorted(own))
        values.append(
            {"index_name": spec.name, "doc_id": doc_id, "fields": fields, "terms": literal, "words": listed}
        )
        words |= own
    if values:
        statement = insert(SearchDocument)
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["index_name", "doc_id"],
                set_={
                    "fields": excluded.fields,
                    "terms": excluded.terms,
                    "words": excluded.words,
                    "written": WRITTEN.next_value(),
                },
            ),
            values,
        )
    if words:  # sorted: two transactions adding the same new words take their locks in one order
        session.execute(
            insert(SearchWord).on_conflict_do_nothing(),
            [{"index_name": spec.name, "word": w} for w in sorted(words)],
        )
    if dropped - words:
        # No document has them now (an edit, a deletion, a customer's name erased): out of the
        # vocabulary, so "did you mean" never offers what is gone.
        session.execute(
            text(
                "DELETE FROM search_words w WHERE w.index_name = :index AND w.word = ANY(:dropped)"
                " AND NOT EXISTS (SELECT 1 FROM search_documents d WHERE d.index_name = :index"
                " AND d.words @@ CAST(quote_literal(w.word) AS tsquery))"
            ).bindparams(bindparam("dropped", type_=ARRAY(TEXT))),
            {"index": spec.name, "dropped": sorted(dropped - words)},
        )
    from helpdesk.search import dense  # dense imports this module

    dense.store_passages_pg(session, spec.name, documents, rows)


def rebuild(spec: IndexSpec, progress: Callable[[str, int], object] | None = None) -> int:
    """``helpdesk reindex`` for one index: every document written again, in the caller's transaction."""
    from helpdesk.search import dense

    session = db.session
    total = session.scalar(select(func.count()).select_from(spec.model))
    # Streamed (a million tickets with their messages do not fit in memory at once); the rows
    # are kept only for an index whose passage vectors are written after the words.
    source = spec.all_rows() if spec.all_rows else session.scalars(select(spec.model))
    kept: list[Any] | None = [] if dense.dense_spec(spec.name) is not None else None
    session.execute(delete(SearchDocument).where(SearchDocument.index_name == spec.name))
    session.execute(delete(SearchWord).where(SearchWord.index_name == spec.name))
    written = 0
    bar = progress(spec.name, total) if progress else None
    rows = iter(source)
    with bar if bar is not None else NoProgress() as tick:
        while chunk := list(islice(rows, 500)):
            documents = {str(row.id): spec.document(row) for row in chunk}
            _store_lexical_only(session, spec, documents)
            written += sum(d is not None for d in documents.values())
            if kept is not None:
                kept += chunk
            tick.update(len(chunk))
    if kept is not None:
        dense.rebuild_passages_pg(session, spec.name, kept, progress)
    _stats_cache.pop(spec.name, None)
    return written


def _store_lexical_only(session: Session, spec: IndexSpec, documents: dict[str, dict | None]) -> None:
    from helpdesk.search import dense

    with dense.passages_deferred():
        store(session, spec, documents, [], fresh=True)


class NoProgress:
    """Stands in for a progress bar when nobody watches."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def document_count(index: str) -> int:
    return _stats(index).documents


# --- searching -------------------------------------------------------------------------------------


@dataclass
class Found:
    """One matching document: its BM25F score, its fields and the index terms it matched."""

    id: str
    score: float
    fields: dict
    terms: set[str] = field(default_factory=set)


@dataclass
class Built:
    exact: list[tuple[str, float]]  # (term, boost factor), once per place it was asked for
    prefixes: list[str]
    suggestion: str | None
    stats: _Stats | None = None  # counted with the terms' frequencies

    @property
    def tsquery(self) -> str:
        parts = [f"'{_quoted(t)}'" for t in dict.fromkeys(t for t, _b in self.exact)]
        parts += [f"'{_quoted(p)}':*" for p in dict.fromkeys(self.prefixes)]
        return " | ".join(parts)


def build(
    index: str,
    text_: str,
    *,
    as_you_type: bool = False,
    expand: Callable[[list[str]], dict[int, list[str]]] | None = None,
    expansion_boost: float = 0.6,
) -> tuple[Built | None, dict[str, int]]:
    """The query's terms as the Whoosh backend builds them (see ``querying.build_query``), and the
    document frequency of each."""
    words = analysis.words(text_)
    typing_last = as_you_type and bool(text_) and not text_[-1].isspace()
    extra = expand(words) if expand else {}
    asked: list[list[str]] = [analysis.word_terms(w) for w in words]
    extra_terms = {p: [t for w in ws for t in analysis.word_terms(w)] for p, ws in extra.items()}
    frequencies, stats = counted(
        index, {t for ts in asked for t in ts} | {t for ts in extra_terms.values() for t in ts}
    )
    unknown = [
        word
        for position, word in enumerate(words)
        if position not in extra
        and asked[position]
        and not any(frequencies.get(t) for t in asked[position])
        and len(word) >= FUZZY_MIN_LENGTH
    ]
    better = closest_words(index, sorted(set(unknown)))
    corrected: list[str] = []
    for position, word in enumerate(words):
        if word in better and word in unknown:
            corrected.append(better[word])
            asked[position] = analysis.word_terms(better[word]) or asked[position]
        else:
            corrected.append(word)
    changed = corrected != words
    missing = {t for ts in asked for t in ts} - frequencies.keys()
    if missing:
        frequencies |= document_frequencies(index, missing)
    exact: list[tuple[str, float]] = []
    prefixes: list[str] = []
    for position, word in enumerate(words):
        exact += [(t, 1.0) for t in asked[position]]
        exact += [(t, expansion_boost) for t in extra_terms.get(position, ())]
        if position == len(words) - 1 and typing_last:
            prefixes += sorted(_prefix_forms(word))
    if not exact and not prefixes:
        return None, frequencies
    return Built(exact, prefixes, " ".join(corrected) if changed else None, stats), frequencies


def _prefix_forms(word: str) -> set[str]:
    forms = {analysis.strip_article(word)} if analysis.is_arabic(word) else {word}
    forms.update(analysis.word_terms(word))
    return {f for f in forms if len(f) >= 2}


def document_frequencies(index: str, terms: Iterable[str], cap: int = DF_CAP) -> dict[str, int]:
    """How many documents of ``index`` hold each term (counted up to ``cap``), in one statement."""
    return counted(index, terms, cap)[0]


def counted(index: str, terms: Iterable[str], cap: int = DF_CAP) -> tuple[dict[str, int], _Stats]:
    """Each term's document frequency and the index's statistics (cached for a large index), in
    one statement."""
    terms = sorted(t for t in set(terms) if t and len(t) <= MAX_TERM_CHARS)
    with _stats_lock:
        stats = _stats_cache.get(index)
    if stats is not None and time.monotonic() - stats.at >= STATS_MAX_AGE:
        stats = None
    known = {t: min(stats.common[t], cap) for t in terms if stats is not None and t in stats.common}
    terms = [t for t in terms if t not in known]
    columns = [
        f"(SELECT count(*) FROM (SELECT 1 FROM search_documents WHERE index_name = {_named(index)}"
        f" AND terms @@ CAST(:t{n} AS tsquery) LIMIT :cap) s{n})"
        for n in range(len(terms))
    ]
    if stats is None:
        # The averages over every document only when there are few (one statement in all);
        # a larger index's come from a sample, once a minute.
        documents = "(SELECT count(*) FROM search_documents WHERE index_name = :index)"
        columns.append(documents)
        columns.append(
            f"(SELECT ARRAY[{_AVERAGES}] FROM search_documents WHERE index_name = :index"
            f" AND {documents} <= :sampled)"
        )
    if not columns:
        return known, stats
    params: dict[str, Any] = {"index": index, "cap": cap, "sampled": STATS_SAMPLED}
    params |= {f"t{n}": f"'{_quoted(t)}'" for n, t in enumerate(terms)}
    row = db.session.execute(text(f"SELECT {', '.join(columns)}"), params).one()
    if stats is None:
        documents, figures = int(row[len(terms)]), row[len(terms) + 1]
        if documents > STATS_SAMPLED:
            figures = _sampled_averages(index, documents)
        averages = {x: float(v or 0.0) or 1.0 for x, v in zip(LETTERS, figures, strict=True)}
        stats = _Stats(documents, averages, time.monotonic())
        if stats.documents >= STATS_CACHED_FROM:
            stats.common = _common_words(documents)
            with _stats_lock:
                _stats_cache[index] = stats
    return known | dict(zip(terms, row[: len(terms)], strict=True)), stats


def _common_words(documents: int) -> dict[str, int]:
    """The terms column's most common lexemes (``ANALYZE``'s sample, kept in ``pg_stats``) with
    their estimated document frequencies, when this index is nearly the whole table (the
    frequencies are the table's). Counting "card" at a million tickets built a GIN bitmap of its
    128,660 documents at every search; the statistics say 0.127 of the rows."""
    row = db.session.execute(
        text(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples"
            " FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename"
            " AND c.relnamespace = to_regnamespace(s.schemaname)"
            " WHERE s.schemaname = current_schema() AND s.tablename = 'search_documents'"
            " AND s.attname = 'terms'"
        )
    ).first()
    if row is None or row[0] is None or not row[2] or documents < COMMON_WORDS_SHARE * row[2]:
        return {}
    lexemes, frequencies, rows = row
    return {lexeme: round(share * rows) for lexeme, share in zip(lexemes, frequencies, strict=False)}


_AVERAGES = ", ".join(f"avg(COALESCE((fields->'{LENGTHS}'->>'{x}')::float, 0))" for x in LETTERS)


def _sampled_averages(index: str, documents: int) -> list:
    """Average tokens per weight letter from about ``STATS_SAMPLED`` documents (reading every
    document's fields took ten seconds at a million tickets, once a minute in every process)."""
    share = 100.0 * STATS_SAMPLED / documents
    return list(
        db.session.execute(
            text(
                f"SELECT {_AVERAGES} FROM search_documents TABLESAMPLE SYSTEM ({share:.6f}) REPEATABLE (1)"
                " WHERE index_name = :index"
            ),
            {"index": index},
        ).one()
    )


TRIGRAM_THRESHOLD = 0.2  # pg_trgm's default 0.3 misses two-edit typos ("refnuds": 0.33, shorter ones less)


def closest_words(index: str, words: list[str]) -> dict[str, str]:
    """For each word, the indexed word nearest it (same first letter, one edit — two from six
    letters), via pg_trgm, in one statement; words with none are left out."""
    if not words:
        return {}
    # The threshold is set by a one-time filter, evaluated before the index scan that reads it.
    statement = text(
        """
        SELECT w.asked, s.word
        FROM unnest(CAST(:words AS text[])) AS w(asked)
        CROSS JOIN LATERAL (
            SELECT word FROM search_words
            WHERE index_name = :index AND word % w.asked AND left(word, 1) = left(w.asked, 1)
              AND word <> w.asked
            ORDER BY similarity(word, w.asked) DESC, word
            LIMIT 30
        ) s
        WHERE (SELECT set_config('pg_trgm.similarity_threshold', :threshold, true)) IS NOT NULL
        """
    )
    params = {"words": list(words), "index": index, "threshold": str(TRIGRAM_THRESHOLD)}
    best: dict[str, tuple[int, str]] = {}
    for asked, candidate in db.session.execute(statement, params):
        distance = _edit_distance(asked, candidate)
        if distance <= analysis.spelling_edits(asked) and (asked not in best or distance < best[asked][0]):
            best[asked] = (distance, candidate)
    return {asked: found for asked, (_d, found) in best.items()}


def closest_word(index: str, word: str) -> str | None:
    return closest_words(index, [word]).get(word)


def _edit_distance(a: str, b: str) -> int:
    """Damerau–Levenshtein (a swap of two letters is one edit, as in Whoosh's suggestions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


@dataclass
class _Stats:
    documents: int
    average_lengths: dict[str, float]
    at: float
    # A large index's common words and their estimated document frequencies, from PostgreSQL's
    # own statistics of the terms column (``_common_words``): not counted at each search.
    common: dict[str, int] = field(default_factory=dict)


_stats_cache: dict[str, _Stats] = {}
_stats_lock = threading.Lock()


def _stats(index: str) -> _Stats:
    return counted(index, ())[1]


def _conditions(filters: dict[str, str | Collection[str]] | None) -> tuple[str, dict[str, Any]]:
    sql, params = [], {}
    for n, (name, value) in enumerate(sorted((filters or {}).items())):
        params[f"fk{n}"] = name
        if isinstance(value, str):
            sql.append(f"fields->>:fk{n} = :fv{n}")
            params[f"fv{n}"] = value
        else:
            sql.append(f"fields->>:fk{n} = ANY(:fv{n})")
            params[f"fv{n}"] = list(value)
    return "".join(f" AND {s}" for s in sql), params


def search(
    index: str,
    built: Built,
    frequencies: dict[str, int],
    filters: dict[str, str | Collection[str]] | None = None,
    limit: int = 10,
) -> list[Found]:
    """Documents matching ``built``, best first (BM25F over the field groups, as Whoosh scores)."""
    shape = layout(index)
    where, params = _conditions(filters)
    terms = sorted({t for t, _b in built.exact})
    prefixes = sorted(set(built.prefixes))
    statement = text(
        f"""
        WITH hits AS (
            SELECT m.doc_id, m.fields, m.terms,
                ts_rank_cd(CAST(:weights AS float4[]), m.terms, CAST(:query AS tsquery)) AS rank
            FROM (
                -- The query itself, not a CTE's column: the planner must see its words to know
                -- a common one (walk the newest down) from a rare one (its GIN bitmap).
                SELECT d.doc_id, d.fields, d.terms FROM search_documents d
                WHERE d.index_name = {_named(index)} AND d.terms @@ CAST(:query AS tsquery){where}
                ORDER BY d.written DESC
                LIMIT :scan
            ) m
            ORDER BY rank DESC, m.doc_id
            LIMIT :candidates
        )
        SELECT h.doc_id, h.fields,
            (SELECT array_agg(u.lexeme || ':' || array_to_string(u.weights, ''))
             FROM unnest(h.terms) u
             WHERE u.lexeme = ANY(:terms) OR u.lexeme LIKE ANY(:prefixes)) AS matched
        FROM hits h
        """
    ).bindparams(bindparam("terms", type_=ARRAY(TEXT)), bindparam("prefixes", type_=ARRAY(TEXT)))
    params |= {
        "query": built.tsquery,
        "weights": "{" + ",".join(f"{w:.4f}" for w in shape.rank_weights) + "}",
        "index": index,
        "candidates": max(CANDIDATES, limit * 2),
        "scan": RANKED_AT_MOST,
        "terms": terms,
        "prefixes": [_like_prefix(p) for p in prefixes],
    }
    rows = db.session.execute(statement, params).all()
    if not rows:
        return []
    stats = built.stats or _stats(index)
    found = []
    for doc_id, fields, matched in rows:
        counts: dict[str, dict[str, int]] = {}
        for item in matched or []:
            lexeme, _sep, letters = item.rpartition(":")
            counts[lexeme] = {x: letters.count(x) for x in set(letters)}
        lengths = fields.get(LENGTHS, {})
        score = 0.0
        for term, factor in built.exact:
            tf = counts.get(term)
            if not tf:
                continue
            idf = math.log(max(stats.documents, 1) / (frequencies.get(term, 0) + 1)) + 1
            for letter, n in tf.items():
                ratio = lengths.get(letter, 0) / stats.average_lengths[letter]
                bm25 = idf * (n * (K1 + 1)) / (n + K1 * ((1 - B) + B * ratio))
                score += shape.boosts[letter] * factor * bm25
        for prefix in prefixes:
            letters = {x for lexeme, tf in counts.items() if lexeme.startswith(prefix) for x in tf}
            score += sum(shape.boosts[x] * PREFIX_BOOST for x in letters)
        shown = {k: v for k, v in fields.items() if k in shape.stored}
        found.append(Found(doc_id, score, shown, set(counts)))
    found.sort(key=lambda f: (-f.score, _order(f.id)))
    return found[:limit]


def _order(doc_id: str) -> tuple[int, str]:
    return (int(doc_id), "") if doc_id.isdigit() else (0, doc_id)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def documents(index: str, doc_ids: Collection[str]) -> dict[str, dict]:
    """The stored fields of these documents (those the index has)."""
    if not doc_ids:
        return {}
    shape = layout(index)
    rows = db.session.execute(
        select(SearchDocument.doc_id, SearchDocument.fields).where(
            SearchDocument.index_name == index, SearchDocument.doc_id.in_(list(doc_ids))
        )
    )
    return {doc_id: {k: v for k, v in fields.items() if k in shape.stored} for doc_id, fields in rows}


def snippet(body: str, terms: Collection[str]) -> str:
    """Safe HTML: the passages of ``body`` with the matched terms marked (our analyzer finds them),
    else its beginning."""
    return nh3.clean(marked(body, terms) or html.escape(shorten(body)), tags={"mark"}, attributes={})


def marked(body: str, terms: Collection[str]) -> str:
    """The passages of ``body`` where ``terms`` occur, each marked (empty if none does)."""
    if not (terms and body):
        return ""
    return highlight.highlight(
        body,
        frozenset(terms),
        analysis.bilingual_analyzer(),
        highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
        highlight.HtmlFormatter(tagname="mark", between=" … "),
        top=2,
    )


def shorten(body: str) -> str:
    body = " ".join(body.split())
    return body if len(body) <= SNIPPET_CHARS else body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


def query(
    index: str,
    text_: str,
    locale: str | None = None,
    limit: int = 10,
    filters: dict[str, str] | None = None,
    *,
    as_you_type: bool = False,
):
    """``search.query`` on this backend (same hits, snippets and "did you mean")."""
    from helpdesk.search.querying import Hit, SearchResults

    spec = index_spec(index)
    built, frequencies = build(index, text_, as_you_type=as_you_type)
    if built is None:
        return SearchResults()
    conditions = dict(filters or {})
    if locale:
        conditions["locale"] = locale
    found = search(index, built, frequencies, conditions, max(1, limit))
    texts = spec.snippet_texts([f.id for f in found]) if spec.snippet_texts else None
    hits = []
    for item in found:
        body = spec.snippet_source({**item.fields, "id": item.id}, texts)
        hits.append(
            Hit(id=item.id, score=round(item.score, 4), fields=item.fields, snippet=snippet(body, item.terms))
        )
    return SearchResults(hits=hits, suggestion=built.suggestion)
