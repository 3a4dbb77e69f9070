"""Where attachment bytes live: content-addressed blobs (named by their SHA-256), stored once.

Two stores behind one interface, chosen by ``BLOB_STORE`` (``auto``: the database on PostgreSQL,
the disk otherwise):

- ``disk``: ``<instance>/attachments/ab/cd/<sha256>``, the embedded default (SQLite, one host).
- ``database``: chunks in the ``blob_chunks`` table, so web nodes and workers on several hosts
  share the files through PostgreSQL alone. A blob is written in the caller's transaction, with the
  row that refers to it: a rolled-back upload leaves nothing behind, and a backup of the database
  (``pg_dump``) holds the files too.

Both read in chunks: a download is streamed, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import Engine, LargeBinary, String, delete, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpdesk.dbtypes import upsert
from helpdesk.extensions import db

CHUNK_BYTES = 256 * 1024
STORES = ("auto", "disk", "database")
_UNLINK_AFTER_COMMIT = "blob_files_to_unlink"


class BlobChunk(db.Model):
    """One piece of a stored file; ``seq`` counts from 0. An empty file is one empty chunk."""

    __tablename__ = "blob_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class BlobStore(Protocol):
    name: str

    def put(self, data: bytes) -> str:
        """Store the bytes (once per content) in the caller's transaction; return their SHA-256."""

    def exists(self, digest: str) -> bool: ...

    def open(self, digest: str) -> io.RawIOBase:
        """A reader over the blob's bytes, usable after the request (it holds what it needs)."""

    def local_path(self, digest: str) -> Path | None:
        """The file on this host's disk, when the store has one (lets the server send it directly)."""

    def discard(self, digests: Iterable[str]) -> int:
        """Remove these blobs when the caller's transaction commits; return how many existed."""

    def digests(self) -> Iterator[str]:
        """Every stored blob's SHA-256."""


class DiskStore:
    """Files under ``root``, written atomically (temporary file, then rename)."""

    name = "disk"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def open(self, digest: str) -> io.RawIOBase:
        return self.path(digest).open("rb", buffering=0)

    def local_path(self, digest: str) -> Path | None:
        return self.path(digest)

    def discard(self, digests: Iterable[str]) -> int:
        # A file cannot be part of the transaction: it goes after the commit, so a rollback keeps it.
        existing = {d for d in digests if self.exists(d)}
        db.session.info.setdefault(_UNLINK_AFTER_COMMIT, set()).update(self.path(d) for d in existing)
        return len(existing)

    def digests(self) -> Iterator[str]:
        if self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                if path.is_file() and not path.name.startswith("."):  # not a half-written upload
                    yield path.name


class DatabaseStore:
    """Chunks in ``blob_chunks``, in the database every node shares."""

    name = "database"

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return digest
        rows = [
            {"sha256": digest, "seq": seq, "data": data[start : start + CHUNK_BYTES]}
            for seq, start in enumerate(range(0, max(len(data), 1), CHUNK_BYTES))
        ]
        # Two nodes storing the same file at once write the same chunks: the second insert is a no-op.
        statement = upsert(BlobChunk).on_conflict_do_nothing(index_elements=["sha256", "seq"])
        for row in rows:
            db.session.execute(statement, row)
        return digest

    def exists(self, digest: str) -> bool:
        found = select(BlobChunk.seq).where(BlobChunk.sha256 == digest, BlobChunk.seq == 0)
        return db.session.scalar(found) is not None

    def open(self, digest: str) -> io.RawIOBase:
        return _ChunkReader(db.engine, digest)

    def local_path(self, digest: str) -> Path | None:
        return None

    def discard(self, digests: Iterable[str]) -> int:
        existing = [d for d in set(digests) if self.exists(d)]
        if existing:
            db.session.execute(delete(BlobChunk).where(BlobChunk.sha256.in_(existing)))
        return len(existing)

    def digests(self) -> Iterator[str]:
        yield from db.session.scalars(
            select(BlobChunk.sha256).where(BlobChunk.seq == 0).order_by(BlobChunk.sha256)
        )


class _ChunkReader(io.RawIOBase):
    """Reads a blob chunk by chunk on its own connection, so the response body can be streamed after
    the request's session has closed; holds one chunk in memory at a time."""

    def __init__(self, engine: Engine, digest: str) -> None:
        self._engine, self._digest = engine, digest
        self._seq, self._buffer, self._done = 0, b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer and not self._done:
            self._buffer = self._next_chunk()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _next_chunk(self) -> bytes:
        query = select(BlobChunk.data).where(BlobChunk.sha256 == self._digest, BlobChunk.seq == self._seq)
        with self._engine.connect() as connection:
            data = connection.scalar(query)
        if data is None:
            self._done = True
            return b""
        self._seq += 1
        return bytes(data)


def store_name(config: dict, database_url: str) -> str:
    """The configured store, with ``auto`` resolved from the database."""
    choice = config.get("BLOB_STORE", "auto")
    if choice == "auto":
        return "database" if database_url.startswith("postgresql") else "disk"
    return choice


def make_store(name: str) -> BlobStore:
    """A store of this app by name: ``disk`` or ``database``."""
    if name == "database":
        return DatabaseStore()
    return DiskStore(Path(current_app.instance_path) / "attachments")


def blob_store() -> BlobStore:
    """This app's configured store (one instance per app)."""
    store = current_app.extensions.get("blob_store")
    if store is None:
        store = make_store(store_name(current_app.config, current_app.config["SQLALCHEMY_DATABASE_URI"]))
        current_app.extensions["blob_store"] = store
    return store


@event.listens_for(Session, "after_commit")
def _unlink_discarded_files(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for path in session.info.pop(_UNLINK_AFTER_COMMIT, ()):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _keep_discarded_files(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_UNLINK_AFTER_COMMIT, None)
