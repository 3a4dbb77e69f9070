"""Index storage under the instance folder, the index-jobs queue and the single writer that drains it.

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

from flask import Flask, current_app
from sqlalchemy import delete, event, insert, inspect, select, text
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.search.models import IndexJob
from helpdesk.search.registry import IndexSpec, all_indexes, index_spec
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.search")

WRITER_TIMEOUT_SECONDS = 5.0
INDEX_WRITER_LOCK = 0x5EA2C4  # the PostgreSQL advisory lock key of the single index writer
MAX_CACHED_SEARCHERS = 8  # per thread; each holds open files
_open_indexes: dict[str, whoosh_index.Index] = {}
_local = threading.local()
_lock = threading.Lock()


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
            if whoosh_index.exists_in(folder, indexname=name):
                found = whoosh_index.open_dir(folder, indexname=name)
            else:
                found = whoosh_index.create_in(folder, index_spec(name).schema(), indexname=name)
            _open_indexes[key] = found
        return found


def searcher(name: str) -> Searcher:
    """A searcher for this thread, refreshed when the writer has committed since."""
    key = str(index_dir(name))
    cache: dict[str, Searcher] = _local.__dict__.setdefault("searchers", {})
    current = cache.get(key)
    if current is None or not current.up_to_date():
        # A new searcher rather than Searcher.refresh(), which fails on a reader of an empty index.
        if current is not None:
            current.close()
        current = open_index(name).searcher()
    cache[key] = current
    for stale in [k for k in cache if k != key][: max(0, len(cache) - MAX_CACHED_SEARCHERS)]:
        cache.pop(stale).close()
    return current


def forget_index(name: str) -> None:
    """Drop cached handles (after the folder was replaced)."""
    key = str(index_dir(name))
    with _lock:
        _open_indexes.pop(key, None)
    cache: dict[str, Searcher] = _local.__dict__.setdefault("searchers", {})
    old = cache.pop(key, None)
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
    if rows:
        session.connection().execute(insert(IndexJob), rows)


def queue_reindex(name: str, doc_id: int | str) -> None:
    db.session.add(IndexJob(index_name=name, doc_id=str(doc_id)))


# --- writing ---------------------------------------------------------------------------------


def _write(writer, spec: IndexSpec, doc_id: str) -> None:
    row = db.session.get(spec.model, int(doc_id))
    document = spec.document(row) if row is not None else None
    if document is None:
        writer.delete_by_term("id", doc_id)
    else:
        writer.update_document(**document)


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
        done += ids
    if done:
        db.session.execute(delete(IndexJob).where(IndexJob.id.in_(done)))
    db.session.commit()
    return {"applied": len(done)}


def reindex(
    names: Iterable[str] | None = None,
    progress: Callable[[str, int], object] | None = None,
) -> dict[str, int]:
    """Rebuild indexes from the database. ``progress(name, total)`` returns a context manager whose
    value has ``update(n)`` (``click.progressbar`` fits)."""
    counts: dict[str, int] = {}
    for spec in [index_spec(n) for n in names] if names else all_indexes():
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
        with bar if bar is not None else _NoProgress() as tick:
            for row in rows:
                document = spec.document(row)
                if document is not None:
                    writer.add_document(**document)
                    written += 1
                tick.update(1)
        writer.commit(mergetype=CLEAR)
        db.session.execute(delete(IndexJob).where(IndexJob.index_name == spec.name, IndexJob.id <= last_job))
        db.session.commit()
        counts[spec.name] = written
    return counts


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int) -> None:
        return None


@register_job("search.apply_index_jobs", every_seconds=2)
def apply_index_jobs(app: Flask) -> dict[str, int]:
    result = apply_pending_jobs()
    if result["applied"]:
        log.info("applied %d index job(s)", result["applied"])
    return result
