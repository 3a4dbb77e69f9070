"""Index storage under the instance folder, the index-jobs queue and the single writer that drains it.
(On PostgreSQL the indexes are tables written at commit instead: see ``pg.py``.)

Changes to an indexed model queue an ``IndexJob`` in the same transaction (a SQLAlchemy
``after_flush`` hook), so a rolled-back edit queues nothing and a committed one is never lost.
Only the worker job (or ``helpdesk reindex``) opens a Whoosh writer, and on PostgreSQL only one
of them at a time, whatever the number of workers: they take a transaction-scoped advisory lock
first, and a worker that finds it taken leaves the jobs to the one holding it.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from blinker import Namespace
from flask import Flask, current_app, g
from sqlalchemy import delete, event, insert, inspect, select, text
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.idsets import BitSet
from whoosh.index import LockError
from whoosh.query import And, Query, Term
from whoosh.searching import Results, Searcher
from whoosh.writing import CLEAR

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.search import arrays, pg
from helpdesk.search.backend import uses_postgres
from helpdesk.search.models import IndexJob
from helpdesk.search.registry import IndexSpec, all_indexes, index_spec
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.search")

WRITER_TIMEOUT_SECONDS = 5.0
INDEX_WRITER_LOCK = 0x5EA2C4  # the PostgreSQL advisory lock key of the single index writer
# Each searcher keeps its index files open and its caches warm, so the threads of a process share a
# few instead of each keeping its own: a request (any app context) takes one from this pool on first
# use and gives it back when it ends.
IDLE_SEARCHERS = 2  # per index and process
POOLED_INDEXES = 8  # index folders with idle searchers (tests make a folder per test)
_open_indexes: dict[str, whoosh_index.Index] = {}
_idle_searchers: dict[str, list[Searcher]] = {}
_lock = threading.Lock()

# Sent by the single writer after it committed documents to an index, with ``doc_ids`` (None: the
# whole index was rebuilt) and, from ``reindex``, its ``progress``: derived stores (the passage
# vectors of helpdesk/search/dense.py) follow the index in the same pass.
index_written = Namespace().signal("search.index-written")


def index_dir(name: str) -> Path:
    return Path(current_app.instance_path) / "search" / name


def open_index(name: str) -> whoosh_index.Index:
    """The index, created empty the first time."""
    folder = index_dir(name)
    key = str(folder)
    with _lock:
        found = _open_indexes.get(key)
        if found is None:
            folder.mkdir(parents=True, exist_ok=True)
            # Without mmap, a reader reads its segment file as it goes. With it, Whoosh copies each
            # part of the segment it opens into memory: on 100,000 tickets, over 200 MB per searcher.
            storage = FileStorage(str(folder), supports_mmap=False)
            if storage.index_exists(name):
                found = storage.open_index(name)
            else:
                found = storage.create_index(index_spec(name).schema(), indexname=name)
            _open_indexes[key] = found
        return found


def searcher(name: str) -> Searcher:
    """An up-to-date searcher for this app context, from the process's pool."""
    key = str(index_dir(name))
    held: dict[str, Searcher] = g.setdefault("_searchers", {})
    current = held.get(key)
    if current is not None and current.up_to_date():
        return current
    if current is not None:  # the writer committed during this context
        current.close()
    held[key] = current = _take_searcher(key, name)
    return current


def search_where(index: str, query: Query, limit: int, fields: dict[str, str]) -> Results | None:
    """The index's best ``limit`` among the documents with these exact field values; None if there
    are none."""
    current = searcher(index)
    allowed = _documents_with(current, fields)
    if allowed is not None and not allowed:  # Whoosh takes an empty filter for no filter
        return None
    found = arrays.search(current, query, limit, allowed) if index_spec(index).kept_in_memory else None
    return found if found is not None else current.search(query, limit=limit, filter=allowed)


def _documents_with(current: Searcher, fields: dict[str, str]) -> BitSet | None:
    """The numbers of the documents with these field values, kept on the searcher: it reads one
    version of the index and is pooled across requests, so the set is built once per version
    instead of at every search (a few milliseconds over thousands of documents)."""
    if not fields:
        return None
    key = tuple(sorted(fields.items()))
    kept: dict = current.__dict__.setdefault("_helpdesk_filters", {})
    found = kept.get(key)
    if found is None:
        wanted = And([Term(name, value) for name, value in key])
        found = kept[key] = BitSet(current.docs_for_query(wanted), size=current.doc_count_all())
    return found


def _take_searcher(key: str, name: str) -> Searcher:
    with _lock:
        idle = _idle_searchers.setdefault(key, [])
        while idle:
            found = idle.pop()
            if found.up_to_date():
                return found
            found.close()
    # A new searcher rather than Searcher.refresh(), which fails on a reader of an empty index.
    return open_index(name).searcher()


def give_back_searchers(_error: BaseException | None = None) -> None:
    """At the end of an app context: its searchers go back to the pool (or are closed)."""
    for key, held in g.pop("_searchers", {}).items():
        closing: list[Searcher] = []
        with _lock:
            idle = _idle_searchers.pop(key, [])
            _idle_searchers[key] = idle  # re-inserted: the least recently used folder comes first
            (idle if len(idle) < IDLE_SEARCHERS else closing).append(held)
            while len(_idle_searchers) > POOLED_INDEXES:
                closing += _idle_searchers.pop(next(iter(_idle_searchers)))
        for old in closing:
            old.close()


def forget_index(name: str) -> None:
    """Drop cached handles (after the folder was replaced)."""
    key = str(index_dir(name))
    with _lock:
        _open_indexes.pop(key, None)
        stale = _idle_searchers.pop(key, [])
    held = g.get("_searchers", {}).pop(key, None)
    for old in [*stale, held]:
        if old is not None:
            old.close()


# --- queueing --------------------------------------------------------------------------------


def _changed(obj, spec: IndexSpec) -> bool:
    if not spec.watched_attributes:
        return True
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in spec.watched_attributes)


@event.listens_for(Session, "after_flush")
def _queue_index_jobs(session: Session, _context) -> None:
    specs = {spec.model: spec for spec in all_indexes()}
    rows = []
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        spec = specs.get(type(obj))
        if spec is None or (obj in session.dirty and not _changed(obj, spec)):
            continue
        rows.append({"index_name": spec.name, "doc_id": str(obj.id), "created_at": utcnow()})
    if not rows:
        return
    if uses_postgres(session):  # written at commit, in this transaction (helpdesk/search/pg.py)
        for row in rows:
            pg.remember(session, row["index_name"], row["doc_id"])
        return
    session.connection().execute(insert(IndexJob), rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_documents(session: Session, previous_transaction) -> None:
    """A rolled-back transaction writes no document (a rolled-back savepoint: the rows are
    written as the transaction finally leaves them, so nothing needs forgetting)."""
    if not previous_transaction.nested:
        pg.forget(session)


def queue_reindex(name: str, doc_id: int | str) -> None:
    if uses_postgres(db.session):
        pg.remember(db.session, name, doc_id)
    else:
        db.session.add(IndexJob(index_name=name, doc_id=str(doc_id)))


def index_exists(name: str) -> bool:
    """Whether the index can be searched (Whoosh: once it was first written; PostgreSQL: always,
    since documents are written with the change)."""
    if uses_postgres():
        return True
    return whoosh_index.exists_in(index_dir(name), indexname=name)


# --- writing ---------------------------------------------------------------------------------


def _write(writer, spec: IndexSpec, doc_id: str) -> None:
    row = db.session.get(spec.model, int(doc_id))
    document = spec.document(row) if row is not None else None
    if document is None:
        writer.delete_by_term("id", doc_id)
    else:
        # An index built before a field was added (articles' phrasings) keeps taking changes; the
        # new field is searched once ``helpdesk reindex`` rebuilds it.
        known = set(writer.schema.names())
        writer.update_document(**{k: v for k, v in document.items() if k in known})


def _single_writer(*, wait: bool) -> bool:
    """Become the one index writer until this transaction ends (PostgreSQL; SQLite writers are
    serialised by the database and by Whoosh's own lock). False if another holds it and not ``wait``."""
    if db.engine.dialect.name != "postgresql":
        return True
    if wait:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEX_WRITER_LOCK})
        return True
    return db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": INDEX_WRITER_LOCK})


def apply_pending_jobs(limit: int = 500) -> dict[str, int]:
    """Apply queued index jobs, oldest first. Another writer busy → try again next round."""
    if uses_postgres():
        return _jobs_to_tables(limit)
    if not _single_writer(wait=False):
        db.session.commit()
        return {"applied": 0}
    jobs = db.session.execute(
        select(IndexJob.id, IndexJob.index_name, IndexJob.doc_id).order_by(IndexJob.id).limit(limit)
    ).all()
    if not jobs:
        db.session.commit()
        return {"applied": 0}
    by_index: dict[str, dict[str, int]] = {}
    for job_id, name, doc_id in jobs:
        by_index.setdefault(name, {})[doc_id] = job_id
    done: list[int] = []
    for name, docs in by_index.items():
        ids = [job_id for job_id, job_name, _d in jobs if job_name == name]
        try:
            spec = index_spec(name)
        except LookupError:
            log.warning("dropping %d jobs for unknown index %s", len(ids), name)
            done += ids
            continue
        try:
            writer = open_index(name).writer(timeout=WRITER_TIMEOUT_SECONDS)
        except LockError:
            log.info("index %s is locked by another writer; will retry", name)
            continue
        try:
            for doc_id in docs:
                _write(writer, spec, doc_id)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        index_written.send(name, doc_ids=list(docs))
        done += ids
    if done:
        db.session.execute(delete(IndexJob).where(IndexJob.id.in_(done)))
    db.session.commit()
    return {"applied": len(done)}


def _jobs_to_tables(limit: int) -> dict[str, int]:
    """On PostgreSQL, jobs queued before the switch from Whoosh: their documents written now."""
    jobs = db.session.execute(select(IndexJob.id, IndexJob.index_name, IndexJob.doc_id).limit(limit)).all()
    for _job_id, name, doc_id in jobs:
        pg.remember(db.session, name, doc_id)
    if jobs:
        db.session.execute(delete(IndexJob).where(IndexJob.id.in_([j[0] for j in jobs])))
    db.session.commit()
    return {"applied": len(jobs)}


def reindex(
    names: Iterable[str] | None = None,
    progress: Callable[[str, int], object] | None = None,
) -> dict[str, int]:
    """Rebuild indexes from the database. ``progress(name, total)`` returns a context manager whose
    value has ``update(n)`` (``click.progressbar`` fits)."""
    counts: dict[str, int] = {}
    specs = [index_spec(n) for n in names] if names else all_indexes()
    if uses_postgres():
        for spec in specs:
            counts[spec.name] = pg.rebuild(spec, progress)
            db.session.execute(delete(IndexJob).where(IndexJob.index_name == spec.name))
            db.session.commit()
        return counts
    for spec in specs:
        _single_writer(wait=True)
        last_job = db.session.scalar(select(IndexJob.id).order_by(IndexJob.id.desc()).limit(1)) or 0
        rows = list(spec.all_rows() if spec.all_rows else db.session.scalars(select(spec.model)))
        folder = index_dir(spec.name)
        forget_index(spec.name)
        if folder.exists():
            shutil.rmtree(folder)
        writer = open_index(spec.name).writer(timeout=WRITER_TIMEOUT_SECONDS)
        written = 0
        bar = progress(spec.name, len(rows)) if progress else None
        with bar if bar is not None else pg.NoProgress() as tick:
            for row in rows:
                document = spec.document(row)
                if document is not None:
                    writer.add_document(**document)
                    written += 1
                tick.update(1)
        writer.commit(mergetype=CLEAR)
        index_written.send(spec.name, doc_ids=None, progress=progress)
        db.session.execute(delete(IndexJob).where(IndexJob.index_name == spec.name, IndexJob.id <= last_job))
        db.session.commit()
        counts[spec.name] = written
    return counts


@register_job("search.apply_index_jobs", every_seconds=2)
def apply_index_jobs(app: Flask) -> dict[str, int]:
    result = apply_pending_jobs()
    if result["applied"]:
        log.info("applied %d index job(s)", result["applied"])
    return result
