"""Passage vectors beside a lexical index, written by the index writer, read by every search.

Why a file and not a table: the vectors follow the Whoosh index they are fused with — same
instance folder, same single writer (the worker's index-jobs pass, or ``helpdesk reindex``), same
rebuild — and need no schema migration. One ``<index>.vectors.npz`` holds, per passage, its vector
(float16: 768 bytes), its document id, a hash of its text (so a rebuild re-embeds only what
changed) and the document's filter fields (locale, status). It is replaced atomically; a web
process reloads it when its modification time changes (one ``stat`` per search) and keeps it as
float32, so a search is one matrix-vector product: about 10,000 passages (2,000 articles) is
15 MB and well under a millisecond — no vector index needed at knowledge-base scale.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import delete, insert, select, text

from helpdesk.extensions import db
from helpdesk.search import embeddings
from helpdesk.search.backend import uses_postgres
from helpdesk.search.indexer import index_written
from helpdesk.search.registry import index_spec

log = logging.getLogger("helpdesk.search")

LOADED_STORES = 8  # per process (tests make an instance folder per test)
# A filter field that the language versions of one document share (an article and its
# translations): a search in one language can then count what it found in another.
FAMILY_FIELD = "family"
# Marks a passage that is a question in the customer's words (an article's phrasing, embedded as
# e5 embeds a query): searched apart from the documents' own text, see ``nearest_questions``.
QUESTION_FIELD = "question"
# Hubs: the model puts some passages close to almost any question (in Arabic above all: "شكرا"
# and "ايفون" found the password article). A passage's hubness is its mean cosine to the
# ``HUB_NEIGHBOURS`` nearest phrasings of other documents (questions customers ask); the part of it
# above the ``HUB_QUANTILE`` of all passages' is taken, times ``HUB_WEIGHT``, off its cosine to every
# question. Chosen with the development sets and 120 questions we have no article for (written by
# someone who saw only the articles' topics): those with a result found by meaning alone went from
# 49 to 27 (another writer's 120, read afterwards: 44 to 33), recall@3 unchanged (README, "Search
# by meaning").
HUB_NEIGHBOURS = 10
HUB_QUANTILE = 0.25
HUB_WEIGHT = 0.7
HUB_REFERENCE = 2000  # phrasings compared with (a sample of them beyond), to bound the cost of a load


@dataclass(frozen=True)
class DenseSpec:
    """How the documents of a lexical index become passages to embed."""

    index: str  # the lexical index's name ("articles"); its IndexSpec gives the model and rows
    passages: Callable[[Any], list[str]]  # row → passage texts ([] keeps it out)
    filter_fields: Callable[[Any], dict[str, str]]  # row → exact-match fields (locale, status)
    # Held in memory as int8 with a scale per row instead of float32: a quarter of the memory
    # (100,000 tickets: 38 MB instead of 154 MB), ranking unchanged to the second decimal.
    compact: bool = False


_SPECS: dict[str, DenseSpec] = {}


def register_dense(spec: DenseSpec) -> DenseSpec:
    _SPECS[spec.index] = spec
    return spec


def dense_spec(index: str) -> DenseSpec | None:
    return _SPECS.get(index)


def store_path(index: str) -> Path:
    return Path(current_app.instance_path) / "search" / f"{index}.vectors.npz"


def _hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()


# --- the stored arrays -----------------------------------------------------------------------


@dataclass
class _Store:
    vectors: np.ndarray  # (n, 384) float16 on disk
    doc_ids: np.ndarray  # (n,) int64, rows of one document together
    hashes: np.ndarray  # (n,) S12
    fields: dict[str, np.ndarray]  # name → (n,) str

    @classmethod
    def empty(cls) -> _Store:
        return cls(
            np.zeros((0, embeddings.DIMENSIONS), np.float16),
            np.zeros(0, np.int64),
            np.zeros(0, "S12"),
            {},
        )

    def without(self, doc_ids: Iterable[int]) -> _Store:
        keep = ~np.isin(self.doc_ids, np.fromiter(doc_ids, np.int64))
        return _Store(
            self.vectors[keep],
            self.doc_ids[keep],
            self.hashes[keep],
            {k: v[keep] for k, v in self.fields.items()},
        )


def _read(path: Path) -> _Store:
    if not path.exists():
        return _Store.empty()
    with np.load(path, allow_pickle=False) as data:
        if str(data["model"]) != embeddings.MODEL_NAME:
            return _Store.empty()  # another model's vectors do not compare with ours
        fields = {k[len("field_") :]: data[k] for k in data.files if k.startswith("field_")}
        return _Store(data["vectors"], data["doc_ids"], data["hashes"], fields)


def _save(path: Path, store: _Store) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(
        temporary,
        model=np.array(embeddings.MODEL_NAME),
        vectors=store.vectors.astype(np.float16),
        doc_ids=store.doc_ids,
        hashes=store.hashes,
        **{f"field_{k}": v for k, v in store.fields.items()},
    )
    os.replace(temporary, path)


# --- writing (the index writer only) ---------------------------------------------------------


def _passages_of(spec: DenseSpec, rows: Iterable[Any]) -> list[tuple[int, str, dict[str, str]]]:
    out = []
    for row in rows:
        fields = spec.filter_fields(row)
        question = {**fields, QUESTION_FIELD: "1"}
        out += [
            (int(row.id), text, question if text.startswith(embeddings.AS_QUERY) else fields)
            for text in spec.passages(row)
            if text.strip()
        ]
    return out


def _embed_into(
    store: _Store, passages: list[tuple[int, str, dict[str, str]]], progress: Callable | None = None
) -> _Store:
    """``store`` plus ``passages``: vectors of unchanged texts are reused from ``store``, the rest
    embedded. Without a model, the new passages are left out (search then ranks by words)."""
    known = {h: i for i, h in enumerate(store.hashes.tolist())}
    hashes = [_hash(text) for _doc, text, _f in passages]
    missing = [i for i, h in enumerate(hashes) if h not in known]
    fresh: dict[int, np.ndarray] = {}
    if missing:
        todo = [passages[i][1] for i in missing]
        vectors = _embed_with_progress(todo, progress)
        if vectors is None:
            passages = [p for i, p in enumerate(passages) if hashes[i] in known]
            hashes = [h for h in hashes if h in known]
        else:
            fresh = {hashes[i]: vectors[n] for n, i in enumerate(missing)}
    if not passages:
        return store
    rows = np.stack([fresh[h] if h in fresh else store.vectors[known[h]] for h in hashes])
    names = sorted({k for _d, _t, f in passages for k in f} | set(store.fields))
    new_fields = {k: np.array([f.get(k, "") for _d, _t, f in passages]) for k in names}
    return _Store(
        np.concatenate([store.vectors, rows.astype(np.float16)]),
        np.concatenate([store.doc_ids, np.array([d for d, _t, _f in passages], np.int64)]),
        np.concatenate([store.hashes, np.array(hashes, "S12")]),
        {
            k: np.concatenate([store.fields.get(k, np.full(len(store.doc_ids), "")), new_fields[k]])
            for k in names
        },
    )


def _embed_with_progress(texts: list[str], progress: Callable | None) -> np.ndarray | None:
    if progress is None:
        return embeddings.embed_passages(texts)
    if not embeddings.is_available():
        return None
    parts = []
    with progress(len(texts)) as bar:
        for start in range(0, len(texts), 32):
            chunk = texts[start : start + 32]
            parts.append(embeddings.embed_passages(chunk))
            bar.update(len(chunk))
    return np.concatenate(parts) if parts else None


def update_vectors(index: str, doc_ids: Iterable[str]) -> int:
    """Re-embed the passages of these documents (deleted or unlisted ones are dropped). Returns
    how many passages the documents now have."""
    spec, lexical = dense_spec(index), index_spec(index)
    if spec is None:
        return 0
    ids = [int(d) for d in doc_ids]
    path = store_path(index)
    old = _read(path)
    rows = db.session.scalars(select(lexical.model).where(lexical.model.id.in_(ids))).all()
    passages = _passages_of(spec, rows)
    # Reuse vectors of this document's unchanged passages: embed against the old rows, then drop them.
    merged = _embed_into(old, passages)
    kept = len(old.doc_ids)
    survivors = ~np.isin(old.doc_ids, np.array(ids, np.int64))
    keep = np.concatenate([survivors, np.ones(len(merged.doc_ids) - kept, bool)])
    new = _Store(
        merged.vectors[keep],
        merged.doc_ids[keep],
        merged.hashes[keep],
        {k: v[keep] for k, v in merged.fields.items()},
    )
    _save(path, new)
    return int(np.isin(new.doc_ids, np.array(ids, np.int64)).sum())


def stamp(index: str) -> tuple[int, int] | None:
    """Changes whenever the stored vectors do (for caches of answers computed from them)."""
    if uses_postgres():
        return _stamp_pg(index)
    try:
        info = store_path(index).stat()
    except FileNotFoundError:
        return None
    return (info.st_mtime_ns, info.st_size)


def rebuild_vectors(index: str, progress: Callable | None = None) -> int:
    """Every document's passages, reusing the stored vectors of unchanged texts. Returns the
    number of passages stored. ``progress(total)`` gives a context manager with ``update(n)``."""
    spec, lexical = dense_spec(index), index_spec(index)
    if spec is None:
        return 0
    rows = list(lexical.all_rows() if lexical.all_rows else db.session.scalars(select(lexical.model)))
    path = store_path(index)
    old = _read(path)
    merged = _embed_into(old, _passages_of(spec, rows), progress)
    kept = len(old.doc_ids)
    new = _Store(
        merged.vectors[kept:],
        merged.doc_ids[kept:],
        merged.hashes[kept:],
        {k: v[kept:] for k, v in merged.fields.items()},
    )
    _save(path, new)
    return len(new.doc_ids)


@index_written.connect
def _follow_index(name: str, doc_ids: list[str] | None = None, progress: Callable | None = None) -> None:
    """After the lexical index changed: the vectors follow (errors logged; words still work)."""
    if dense_spec(name) is None:
        return
    try:
        if doc_ids is None:
            bar = (lambda total: progress(f"{name} (meaning)", total)) if progress else None
            count = rebuild_vectors(name, progress=bar)
            log.info("%s: %d passages embedded", name, count)
        else:
            update_vectors(name, doc_ids)
    except Exception:
        log.exception("could not update the %s vectors; search ranks those documents by words", name)


# --- reading (every process) -----------------------------------------------------------------


@dataclass
class _Loaded:
    stamp: tuple[int, int]
    vectors: np.ndarray  # float32, or int8 (compact) with ``scales``
    starts: np.ndarray  # first row of each document
    doc_ids: np.ndarray  # one per document
    fields: dict[str, np.ndarray]  # one per document
    scales: np.ndarray | None = None  # compact: row i is vectors[i] * scales[i]
    questions: np.ndarray | None = None  # per row: is it a question (a phrasing)? None: none are
    hubness: np.ndarray | None = None  # per row: taken off its cosine (see ``HUB_WEIGHT``)
    # Built on first use: doc id → its family, and (family, locale) → doc id.
    _families: tuple[dict[str, str], dict[tuple[str, str], str]] | None = None

    def families(self) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        if self._families is None:
            family_of: dict[str, str] = {}
            versions: dict[tuple[str, str], str] = {}
            families, locales = self.fields.get(FAMILY_FIELD), self.fields.get("locale")
            if families is not None and locales is not None:
                for doc_id, family, locale in zip(self.doc_ids.tolist(), families, locales, strict=True):
                    if family:
                        family_of[str(doc_id)] = str(family)
                        versions.setdefault((str(family), str(locale)), str(doc_id))
            self._families = (family_of, versions)
        return self._families


_loaded: OrderedDict[str, _Loaded] = OrderedDict()
_lock = threading.Lock()


def _current(index: str) -> _Loaded | None:
    if uses_postgres():
        return _current_pg(index)
    path = store_path(index)
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    key = str(path)
    with _lock:
        found = _loaded.get(key)
        if found is not None and found.stamp == stamp:
            _loaded.move_to_end(key)
            return found
    found = _loaded_from(index, _read(path), stamp)
    if found is None:
        return None
    with _lock:
        _loaded[key] = found
        while len(_loaded) > LOADED_STORES:
            _loaded.popitem(last=False)
    return found


def _loaded_from(index: str, store: _Store, stamp: tuple[int, int]) -> _Loaded | None:
    if not len(store.doc_ids):
        return None
    order = np.argsort(store.doc_ids, kind="stable")
    doc_ids = store.doc_ids[order]
    starts = np.flatnonzero(np.r_[True, doc_ids[1:] != doc_ids[:-1]])
    spec = dense_spec(index)
    if spec is not None and spec.compact:
        vectors, scales = _compact(store.vectors[order])
    else:
        vectors, scales = np.ascontiguousarray(store.vectors[order], dtype=np.float32), None
    questions = None
    if QUESTION_FIELD in store.fields:
        questions = store.fields[QUESTION_FIELD][order] == "1"
        questions = questions if questions.any() else None
    return _Loaded(
        stamp=stamp,
        vectors=vectors,
        starts=starts,
        doc_ids=doc_ids[starts],
        fields={k: v[order][starts] for k, v in store.fields.items() if k != QUESTION_FIELD},
        scales=scales,
        questions=questions,
        hubness=_hubness(vectors, scales, questions, starts),
    )


def _hubness(
    vectors: np.ndarray, scales: np.ndarray | None, questions: np.ndarray | None, starts: np.ndarray
) -> np.ndarray | None:
    """Per row, what ``_similarities`` takes off for being close to every question (``HUB_WEIGHT``);
    None without phrasings to compare with."""
    if questions is None or questions.all():
        return None
    owner = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(vectors)]))
    asked = np.flatnonzero(questions)
    asked = asked[np.linspace(0, len(asked) - 1, min(len(asked), HUB_REFERENCE)).astype(int)]
    reference, reference_owner = _floats(vectors, scales, asked).T, owner[asked]
    neighbours = min(HUB_NEIGHBOURS, len(asked))
    near = np.zeros(len(vectors), np.float32)
    for start in range(0, len(vectors), 1024):  # a bounded temporary
        rows = np.arange(start, min(start + 1024, len(vectors)))
        cosines = _floats(vectors, scales, rows) @ reference
        cosines[owner[rows, None] == reference_owner[None, :]] = -1.0  # its own phrasings are no hub
        near[rows] = -np.partition(-cosines, neighbours - 1, axis=1)[:, :neighbours].mean(axis=1)
    passages = ~questions
    above = near - np.quantile(near[passages], HUB_QUANTILE)
    return np.where(passages, HUB_WEIGHT * np.maximum(above, 0.0), 0.0).astype(np.float32)


def _floats(vectors: np.ndarray, scales: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """float32 copies of some rows (from int8 and their scales when compact)."""
    block = vectors[rows].astype(np.float32)
    return block if scales is None else block * scales[rows, None]


def _compact(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and their scales (each row's largest component maps to ±127)."""
    rows = np.empty(vectors.shape, np.int8)
    scales = np.empty(len(vectors), np.float32)
    for start in range(0, len(vectors), 8192):  # a bounded float32 temporary, not a full copy
        part = slice(start, start + 8192)
        block = vectors[part].astype(np.float32)
        scale = np.abs(block).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        rows[part] = np.rint(block / scale[:, None]).astype(np.int8)
        scales[part] = scale
    return rows, scales


def _similarities(found: _Loaded, vector: np.ndarray) -> np.ndarray:
    """Each row's cosine to ``vector``, less its hubness."""
    if found.scales is None:
        similarity = found.vectors @ vector
    else:
        query, query_scale = _compact(vector.reshape(1, -1).astype(np.float32))
        similarity = _int8_dots(found.vectors, query[0]) * found.scales * query_scale[0]
    return similarity if found.hubness is None else similarity - found.hubness


ROWS_AT_ONCE = 512  # int8 rows made float32 at a time for the product: 0.8 MB, kept in the cache


def _int8_dots(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``rows @ query`` for int8 rows and query, exactly (a sum of 384 int8 products stays below
    2**24, where float32 is still exact). Blocks of rows are made float32 in one small buffer for
    BLAS: twice as fast as numpy's int32 ``einsum``, with no float copy of the whole matrix."""
    block = np.empty((min(ROWS_AT_ONCE, len(rows)), rows.shape[1]), np.float32)
    wanted = query.astype(np.float32)
    out = np.empty(len(rows), np.float32)
    for start in range(0, len(rows), ROWS_AT_ONCE):
        part = rows[start : start + ROWS_AT_ONCE]
        np.copyto(block[: len(part)], part, casting="unsafe")
        np.matmul(block[: len(part)], wanted, out=out[start : start + len(part)])
    return out


def nearest(
    index: str,
    vector: np.ndarray,
    filters: dict[str, str | Collection[str]] | None = None,
    limit: int = 30,
) -> dict[str, float]:
    """Document id → cosine of its best passage, for the ``limit`` nearest documents that match
    ``filters`` (a value, or a set of allowed values). Empty when there are no vectors."""
    return nearest_both(index, vector, filters, limit)[0]


def nearest_both(
    index: str,
    vector: np.ndarray,
    filters: dict[str, str | Collection[str]] | None = None,
    limit: int = 30,
) -> tuple[dict[str, float], dict[str, float]]:
    """(``nearest``: by the documents' own passages, ``nearest_questions``) from one product."""
    found = _current(index)
    if found is None:
        return {}, {}
    allowed = _allowed(found, filters)
    if allowed is None:
        return {}, {}
    similarity = _similarities(found, vector)
    text = similarity if found.questions is None else np.where(found.questions, -2.0, similarity)
    return _best(found, np.maximum.reduceat(text, found.starts), allowed, limit), _questions(
        found, similarity, allowed, limit
    )


def _allowed(found: _Loaded, filters: dict[str, str | Collection[str]] | None) -> np.ndarray | None:
    """Per document: does it match ``filters``? None when a filter names an unknown field."""
    allowed = np.ones(len(found.doc_ids), bool)
    for name, value in (filters or {}).items():
        column = found.fields.get(name)
        if column is None:
            return None
        allowed &= np.isin(column, list(value)) if not isinstance(value, str) else column == value
    return allowed


def _best(found: _Loaded, best: np.ndarray, allowed: np.ndarray, limit: int) -> dict[str, float]:
    candidates = np.flatnonzero(allowed & np.isfinite(best))
    if len(candidates) > limit:
        candidates = candidates[np.argpartition(-best[candidates], limit)[:limit]]
    return {str(found.doc_ids[i]): float(best[i]) for i in candidates}


def _questions(found: _Loaded, similarity: np.ndarray, allowed: np.ndarray, limit: int) -> dict[str, float]:
    """Document id → how far its nearest question stands out from all the allowed questions, in
    standard deviations. The 4-bit model puts any two short questions of one language close
    (Arabic ones at 0.9 and more), so a question's raw cosine says little; standing out does."""
    if found.questions is None:
        return {}
    sizes = np.diff(np.r_[found.starts, len(similarity)])
    rows = found.questions & np.repeat(allowed, sizes)
    if rows.sum() < 2:
        return {}
    values = similarity[rows]
    spread = float(values.std()) or 1e-6
    z = np.where(rows, (similarity - float(values.mean())) / spread, -np.inf)
    return _best(found, np.maximum.reduceat(z, found.starts), allowed, limit)


def stored_passages(index: str) -> tuple[np.ndarray, np.ndarray]:
    """(doc ids, float16 vectors), one row per stored passage, as written (either backend)."""
    if not uses_postgres():
        store = _read(store_path(index))
        return store.doc_ids, store.vectors
    from helpdesk.search.models import SearchPassage

    rows = db.session.execute(
        select(SearchPassage.doc_id, SearchPassage.vector)
        .where(SearchPassage.index_name == index)
        .order_by(SearchPassage.doc_id, SearchPassage.seq)
    ).all()
    vectors = np.frombuffer(b"".join(bytes(v) for _d, v in rows), np.float16)
    return np.array([int(d) for d, _v in rows], np.int64), vectors.reshape(len(rows), embeddings.DIMENSIONS)


def stored_vector(index: str, doc_id: str) -> np.ndarray | None:
    """The unit vector of a document's first passage as stored (None if it has none yet)."""
    found = _current(index)
    if found is None:
        return None
    at = np.searchsorted(found.doc_ids, int(doc_id))
    if at >= len(found.doc_ids) or found.doc_ids[at] != int(doc_id):
        return None
    row = _floats(found.vectors, found.scales, found.starts[at : at + 1])[0]
    norm = float(np.linalg.norm(row))
    return row / norm if norm else None


def counterparts(index: str, doc_ids: Iterable[str], locale: str) -> dict[str, str]:
    """For documents of other languages: doc id → the id of its ``locale`` version, where the
    stored vectors know one (documents without a version in ``locale`` are left out)."""
    found = _current(index)
    if found is None or FAMILY_FIELD not in found.fields:
        return {}
    family_of, versions = found.families()
    out = {}
    for doc_id in map(str, doc_ids):
        own = versions.get((family_of.get(doc_id, ""), locale))
        if own is not None and own != doc_id:
            out[doc_id] = own
    return out


# --- on PostgreSQL: the vectors in ``search_passages``, written with the documents -----------------
#
# The same passages, hashes and filter fields as the file, one row per passage, written by
# ``pg.write_documents`` in the transaction of the change (a passage whose text is unchanged keeps
# its vector; a new one is embedded there and then). Every process loads an index's rows into the
# same arrays as the file's and reloads them when the rows change.

_deferred = threading.local()
# Another node's new vectors are seen within this long; this process's own at once.
PG_RECHECK_SECONDS = 1.0
_checked: dict[str, tuple[float, int]] = {}  # loaded store → (when its stamp was read, _local_writes)
_local_writes = [0]  # passages written by this process


@contextmanager
def passages_deferred() -> Iterator[None]:
    """Write documents without their passages (``rebuild_passages_pg`` does them all at once)."""
    _deferred.on = True
    try:
        yield
    finally:
        _deferred.on = False


def _vector_bytes(vector: np.ndarray) -> bytes:
    return vector.astype(np.float16).tobytes()


def store_passages_pg(session, index: str, documents: dict[str, dict | None], rows: Iterable[Any]) -> int:
    """The passages of these rows (documents without a row, or with no document, lose theirs)."""
    spec = dense_spec(index)
    if spec is None or getattr(_deferred, "on", False):
        return 0
    kept = [row for row in rows if documents.get(str(row.id)) is not None]
    return _write_passages_pg(session, spec, list(documents), kept)


def _write_passages_pg(session, spec: DenseSpec, doc_ids: list[str], rows: list[Any], progress=None) -> int:
    from helpdesk.search.models import SearchPassage

    if not doc_ids:
        return 0
    known = {
        bytes(h): bytes(v)
        for h, v in session.execute(
            select(SearchPassage.text_hash, SearchPassage.vector).where(
                SearchPassage.index_name == spec.index,
                SearchPassage.doc_id.in_(doc_ids),
                SearchPassage.model == embeddings.MODEL_NAME,
            )
        )
    }
    passages = _passages_of(spec, rows)
    hashes = [_hash(t) for _d, t, _f in passages]
    missing = [i for i, h in enumerate(hashes) if h not in known]
    if missing:
        vectors = _embed_with_progress([passages[i][1] for i in missing], progress)
        if vectors is not None:
            for n, i in enumerate(missing):
                known[hashes[i]] = _vector_bytes(vectors[n])
    session.execute(
        delete(SearchPassage).where(SearchPassage.index_name == spec.index, SearchPassage.doc_id.in_(doc_ids))
    )
    values = []
    seq: dict[int, int] = {}
    for (doc_id, _text, fields), digest in zip(passages, hashes, strict=True):
        if digest not in known:
            continue  # no model: this passage waits for the next write or reindex; words still work
        seq[doc_id] = seq.get(doc_id, -1) + 1
        values.append(
            {
                "index_name": spec.index,
                "doc_id": str(doc_id),
                "seq": seq[doc_id],
                "text_hash": digest,
                "model": embeddings.MODEL_NAME,
                "vector": known[digest],
                "fields": fields,
            }
        )
    if values:
        session.execute(insert(SearchPassage), values)
    _local_writes[0] += 1
    return len(values)


def rebuild_passages_pg(session, index: str, rows: list[Any], progress: Callable | None = None) -> int:
    """Every document's passages again (stored vectors of unchanged texts reused)."""
    spec = dense_spec(index)
    if spec is None:
        return 0
    from helpdesk.search.models import SearchPassage

    existing = [
        str(d)
        for d in session.scalars(
            select(SearchPassage.doc_id).where(SearchPassage.index_name == index).distinct()
        )
    ]
    gone = sorted(set(existing) - {str(row.id) for row in rows})
    if gone:
        session.execute(
            delete(SearchPassage).where(SearchPassage.index_name == index, SearchPassage.doc_id.in_(gone))
        )
    _local_writes[0] += 1
    bar = (lambda total: progress(f"{index} (meaning)", total)) if progress else None
    written = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        written += _write_passages_pg(session, spec, [str(r.id) for r in chunk], chunk, bar)
    return written


def _stamp_pg(index: str) -> tuple[int, int] | None:
    count, newest = db.session.execute(
        text("SELECT count(*), max(xmin::text::bigint) FROM search_passages WHERE index_name = :index"),
        {"index": index},
    ).one()
    return (int(count), int(newest)) if count else None


def _current_pg(index: str) -> _Loaded | None:
    """The index's passages, loaded once and again when they changed (checked at most every
    ``PG_RECHECK_SECONDS``, and at once after this process wrote some)."""
    from helpdesk.search.models import SearchPassage

    key = f"{db.engine.url}#{index}"
    with _lock:
        found = _loaded.get(key)
        checked = _checked.get(key)
    writes = _local_writes[0]
    if found is not None and checked is not None:
        at, seen = checked
        if seen == writes and time.monotonic() - at < PG_RECHECK_SECONDS:
            return found
        if _stamp_pg(index) == found.stamp:
            with _lock:
                _checked[key] = (time.monotonic(), writes)
            return found
    rows = db.session.execute(
        select(
            SearchPassage.doc_id,
            SearchPassage.vector,
            SearchPassage.fields,
            SearchPassage.model,
            text("xmin::text::bigint"),
        )
        .where(SearchPassage.index_name == index)
        .order_by(SearchPassage.doc_id, SearchPassage.seq)
    ).all()
    with _lock:
        _checked[key] = (time.monotonic(), writes)
    if not rows:
        _loaded.pop(key, None)
        return None
    loaded_stamp = (len(rows), max(int(r[4]) for r in rows))  # as ``_stamp_pg`` reads it
    rows = [r for r in rows if r[3] == embeddings.MODEL_NAME]
    names = sorted({k for r in rows for k in r[2]})
    vectors = np.frombuffer(b"".join(bytes(r[1]) for r in rows), np.float16)
    store = _Store(
        vectors.reshape(len(rows), embeddings.DIMENSIONS),
        np.array([int(r[0]) for r in rows], np.int64),
        np.zeros(len(rows), "S12"),
        {k: np.array([r[2].get(k, "") for r in rows]) for k in names},
    )
    found = _loaded_from(index, store, loaded_stamp)
    with _lock:
        if found is None:
            _loaded.pop(key, None)
            return None
        _loaded[key] = found
        while len(_loaded) > LOADED_STORES:
            _loaded.popitem(last=False)
    return found
