"""Back up and restore an embedded instance: the SQLite database, the attachment files and the
instance's secret key. Search indexes are left out: ``restore`` rebuilds them from the database.

The database is copied first, with SQLite's online backup API (a consistent snapshot while the app
keeps writing), the attachments after it. An attachment file is written before the row that refers
to it is committed, so every attachment in the snapshot has its file in the copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

MANIFEST = "manifest.json"
DATABASE = "helpdesk.db"
ATTACHMENTS = "attachments"
SECRET_KEY = "secret_key"
FORMAT = 1
# Counted into the manifest, and compared after a restore.
COUNTED_TABLES = (
    "staff_users",
    "customers",
    "customer_emails",
    "orders",
    "tickets",
    "messages",
    "attachments",
    "csat_ratings",
    "kb_articles",
    "audit_events",
)
# Any row in one of these means the instance is in use: restore refuses to overwrite it.
IN_USE_TABLES = ("staff_users", "customers", "tickets", "kb_articles")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def _database_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError(
            "This instance uses PostgreSQL: back up with pg_dump and restore with pg_restore; the "
            "attachment files are in the database unless HELPDESK_BLOB_STORE=disk (then copy the "
            "attachments folder too; see 'Backups' in the README), e.g.\n"
            '  pg_dump --format=custom --file=helpdesk.dump "$HELPDESK_DATABASE_URL"'
        )
    return Path(url.database)


def _instance() -> Path:
    return Path(current_app.instance_path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _attachment_files(root: Path) -> Iterator[Path]:
    """Stored files, without the half-written temporary ones (``.upload-*``)."""
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _copy_database(source: Path, target: Path, *, single_file: bool = False) -> None:
    """SQLite's online backup: page by page, consistent even while other connections write.
    ``single_file`` leaves WAL mode, so the copy is one self-contained file."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        if single_file:
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _facts(database: Path) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and the row counts of a database file."""
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        revision = con.execute("SELECT group_concat(version_num, ',') FROM alembic_version").fetchone()[0]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED_TABLES}
    finally:
        con.close()
    return revision, counts


def _helpdesk_version() -> str:
    try:
        return version("helpdesk")
    except PackageNotFoundError:  # pragma: no cover - a source tree without installed metadata
        return "unknown"


def backup(target: Path) -> dict:
    """Write a backup into ``target`` (new or empty) and return its manifest."""
    database = _database_path()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty folder; choose a new one.")
    target.mkdir(parents=True, exist_ok=True)
    _copy_database(database, target / DATABASE, single_file=True)
    written = [target / DATABASE]
    source = _instance() / ATTACHMENTS
    for path in _attachment_files(source):
        copy = target / ATTACHMENTS / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        written.append(copy)
    key = _instance() / SECRET_KEY
    if key.is_file():  # signs sessions and reply addresses; absent when it comes from the environment
        shutil.copy2(key, target / SECRET_KEY)
        written.append(target / SECRET_KEY)
    revision, counts = _facts(target / DATABASE)
    manifest = {
        "format": FORMAT,
        "helpdesk_version": _helpdesk_version(),
        "created_at": utcnow().isoformat(),
        "alembic_revision": revision,
        "counts": counts,
        "files": {p.relative_to(target).as_posix(): _sha256(p) for p in written},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> dict:
    """The manifest, after checking every file it lists is there with the same SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} has no {MANIFEST}: not a helpdesk backup.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{source / MANIFEST} is not valid JSON.") from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{source / MANIFEST} is not a backup manifest this version can read.")
    if DATABASE not in manifest["files"]:
        raise BackupError(f"The backup in {source} has no database.")
    bad = []
    for name, expected in manifest["files"].items():
        path = (source / name).resolve()
        if not path.is_relative_to(source.resolve()):
            bad.append(f"{name}: outside the backup folder")
        elif not path.is_file():
            bad.append(f"{name}: missing")
        elif _sha256(path) != expected:
            bad.append(f"{name}: checksum differs")
    if bad:
        raise BackupError("The backup is damaged; nothing was restored:\n  " + "\n  ".join(bad))
    return manifest


def instance_in_use() -> bool:
    """True when the database holds data or attachment files exist."""
    existing = set(inspect(db.engine).get_table_names())
    for table in IN_USE_TABLES:
        if table in existing and db.session.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():
            return True
    return any(True for _ in _attachment_files(_instance() / ATTACHMENTS))


def restore(source: Path, *, force: bool = False) -> dict[str, int]:
    """Replace this instance's database, attachments and secret key with the backup's, bring the
    schema up to date and rebuild the search indexes. Returns the restored row counts."""
    database = _database_path()
    manifest = read_manifest(source)
    if instance_in_use() and not force:
        raise BackupError(
            f"The instance at {_instance()} already holds data; add --force to replace it with the backup."
        )
    db.session.remove()
    db.engine.dispose()
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_database(source / DATABASE, database)
    attachments = _instance() / ATTACHMENTS
    if attachments.exists():
        shutil.rmtree(attachments)
    for name in manifest["files"]:
        if name.startswith(f"{ATTACHMENTS}/"):
            (_instance() / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, _instance() / name)
    if SECRET_KEY in manifest["files"]:
        shutil.copy2(source / SECRET_KEY, _instance() / SECRET_KEY)
        (_instance() / SECRET_KEY).chmod(0o600)

    from helpdesk.schema import upgrade_schema
    from helpdesk.search import reindex

    upgrade_schema()  # a backup from an older version gets the newer schema
    reindex()
    _revision, counts = _facts(database)
    return counts
