"""Whoosh's BM25F ranking of a small index, computed over its postings held as arrays.

A knowledge-base question of ten words (with the dialect lexicon's words, over four fields) is an
``Or`` of a hundred terms matching about a thousand postings; Whoosh scores each one in Python
through a tree of matchers (15–30 ms). Here each term's postings and their BM25F scores are read
once per version of the index into numpy arrays and a query is a sum of them: the same scores
(the formula, the index's own statistics and quantised field lengths), in about a millisecond.

Used for the indexes whose ``IndexSpec.kept_in_memory`` says so (articles, macros: edited by
people, so a version lasts), which also keep their spelling words here for "did you mean". Only
queries that are ``Or`` trees of ``Term`` and ``Prefix`` leaves are taken (what
``querying.build_query`` makes); the prefixes of a word being typed are scored by Whoosh itself
and added. Anything else, another weighting model or an index larger than
``SMALL_INDEX_DOCUMENTS`` goes to Whoosh.
"""

from __future__ import annotations

import numpy as np
from whoosh.idsets import BitSet
from whoosh.query import Or, Prefix, Query, Term
from whoosh.scoring import BM25F
from whoosh.searching import Results, Searcher

SMALL_INDEX_DOCUMENTS = 20_000
KEPT_TERMS = 20_000  # terms' arrays kept per version of the index (a few MB at most)


def search(current: Searcher, query: Query, limit: int, allowed: BitSet | None) -> Results | None:
    """Whoosh's results for ``query`` (best ``limit``, among ``allowed``), or None if this query or
    index is not one this module scores (the caller then asks Whoosh)."""
    if current.doc_count_all() > SMALL_INDEX_DOCUMENTS or type(current.weighting) is not BM25F:
        return None
    leaves: list[Query] = []
    if not _leaves(query, leaves):
        return None
    arrays = _arrays(current)
    scores = np.zeros(arrays.size, dtype=np.float64)
    matched = np.zeros(arrays.size, dtype=bool)
    prefixes = []
    for leaf in leaves:
        if isinstance(leaf, Prefix):
            prefixes.append(leaf)
            continue
        docnums, term_scores = arrays.term(leaf.fieldname, leaf.text)
        scores[docnums] += term_scores * leaf.boost
        matched[docnums] = True
    if prefixes:  # a word being typed: Whoosh scores its prefixes (constant scores, few terms)
        for hit in current.search(Or(prefixes), limit=None, filter=allowed):
            scores[hit.docnum] += hit.score
            matched[hit.docnum] = True
    if allowed is not None:
        matched &= arrays.mask(allowed)
    found = np.flatnonzero(matched)
    # Best first, equal scores in document order: the ones Whoosh's collector keeps at the cut too.
    best = found[np.lexsort((found, -scores[found]))][:limit]
    top = [(float(scores[d]), int(d)) for d in best]
    return Results(current, query, top, docset=set(found.tolist()))


def spelling_words(current: Searcher) -> dict[str, tuple[list[str], list[float]]] | None:
    """The index's spelling words and their frequencies by first letter, or None (a large index:
    the caller asks Whoosh's ``suggest``)."""
    if current.doc_count_all() > SMALL_INDEX_DOCUMENTS:
        return None
    return _arrays(current).spelling_words()


def _leaves(query: Query, into: list[Query]) -> bool:
    """The ``Term`` and ``Prefix`` leaves of an ``Or`` tree (its scores are their sum)."""
    if isinstance(query, Or) and query.boost == 1.0 and not query.scale:
        return all(_leaves(part, into) for part in query.subqueries)
    if type(query) in (Term, Prefix):
        into.append(query)
        return True
    return False


class _Arrays:
    """One version of an index (one searcher): its field lengths and terms' scores as arrays."""

    def __init__(self, current: Searcher):
        self.current = current
        self.size = current.doc_count_all()
        self._lengths: dict[str, np.ndarray] = {}
        self._terms: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._masks: dict[int, tuple[BitSet, np.ndarray]] = {}
        self._spelling: dict[str, tuple[list[str], list[float]]] | None = None

    def spelling_words(self) -> dict[str, tuple[list[str], list[float]]]:
        if self._spelling is None:
            self._spelling = {}
            for term, info in self.current.reader().iter_field("words"):
                text = term.decode() if isinstance(term, bytes) else term
                words, frequencies = self._spelling.setdefault(text[:1], ([], []))
                words.append(text)
                frequencies.append(info.weight())
        return self._spelling

    def mask(self, allowed: BitSet) -> np.ndarray:
        """``allowed`` as a boolean array (filters are few and kept per searcher too)."""
        kept = self._masks.get(id(allowed))
        if kept is None:
            found = np.zeros(self.size, dtype=bool)
            found[list(allowed)] = True
            kept = self._masks[id(allowed)] = (allowed, found)  # the set is held: its id stays its own
        return kept[1]

    def term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The documents with ``text`` in ``field`` and its BM25F score in each (before boosts)."""
        key = (field, text)
        found = self._terms.get(key)
        if found is not None:
            return found
        reader = self.current.reader()
        if field not in reader.schema or (field, text) not in reader:
            found = (np.zeros(0, dtype=np.int64), np.zeros(0))
        else:
            postings = reader.postings(field, text)
            docnums: list[int] = []
            weights: list[float] = []
            while postings.is_active():
                docnums.append(postings.id())
                weights.append(postings.weight())
                postings.next()
            ids = np.array(docnums, dtype=np.int64)
            found = (ids, self._bm25(field, text, np.array(weights), self._field_lengths(field)[ids]))
        if len(self._terms) >= KEPT_TERMS:
            self._terms.clear()
        self._terms[key] = found
        return found

    def _bm25(self, field: str, text: str, tf: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """``whoosh.scoring.bm25`` with the searcher's own idf, average length, B and K1."""
        weighting = self.current.weighting
        b = weighting._field_B.get(field, weighting.B)
        k1 = weighting.K1
        idf = self.current.idf(field, text)
        average = self.current.avg_field_length(field) or 1
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))

    def _field_lengths(self, field: str) -> np.ndarray:
        """Each document's length in ``field`` as Whoosh stores it (rounded to a byte's scale)."""
        found = self._lengths.get(field)
        if found is None:
            length = self.current.reader().doc_field_length
            found = np.array([length(d, field, 1) or 1 for d in range(self.size)], dtype=np.float64)
            self._lengths[field] = found
        return found


def _arrays(current: Searcher) -> _Arrays:
    kept = current.__dict__.get("_helpdesk_arrays")
    if kept is None:
        kept = current.__dict__["_helpdesk_arrays"] = _Arrays(current)
    return kept
