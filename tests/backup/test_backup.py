"""``helpdesk backup`` / ``helpdesk restore``: a real SQLite instance, a real concurrent writer, a real
restore into a fresh instance folder by the installed command."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpdesk import create_app, search
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from tests.factories import POSTGRES_URL, make_staff, make_ticket

sqlite_only = pytest.mark.skipif(POSTGRES_URL is not None, reason="SQLite backups; PostgreSQL uses pg_dump")

LABEL = b"%PDF-1.4 shipping label " * 200
PHOTO = bytes(range(256)) * 40


def _counts(database: Path, tables=("tickets", "messages", "attachments", "customers", "audit_events")):
    con = sqlite3.connect(database)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def _run(args: list[str], instance: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance)}
    env.pop("HELPDESK_DATABASE_URL", None)
    helpdesk = str(Path(sys.executable).parent / "helpdesk")
    return subprocess.run([helpdesk, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def filled(app):
    """Tickets with attachments (one file shared by two messages) in Arabic and English, and the
    secret key file ``helpdesk init`` writes (tests pass the key in the config instead)."""
    (Path(app.instance_path) / "secret_key").write_text("instance-secret")
    agent = make_staff()
    first = make_ticket(
        subject="الشحنة متأخرة",
        body="وين طلبي؟",
        attachments=[IncomingFile("فاتورة.pdf", "application/pdf", LABEL)],
    )
    service.add_message(
        first,
        author=agent,
        body="Label attached",
        attachments=[IncomingFile("l.pdf", "application/pdf", LABEL)],
    )
    second = make_ticket(subject="Broken kettle", body="Photo attached")
    service.add_message(
        second, author=second.customer, body="photo", attachments=[IncomingFile("k.png", "image/png", PHOTO)]
    )
    db.session.commit()
    return app


class Writer(threading.Thread):
    """Another process's worth of writes: audit rows committed one by one through its own connection."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.written = 0

    def run(self) -> None:
        con = sqlite3.connect(self.database, timeout=30)
        while not self.stop.is_set():
            con.execute(
                "INSERT INTO audit_events (action, actor, details, created_at) VALUES (?, ?, ?, ?)",
                ("test.write", "system", "{}", "2026-01-01 00:00:00.000000"),
            )
            con.commit()
            self.written += 1
        con.close()


@sqlite_only
def test_backup_while_writing_then_restore_into_a_fresh_instance(filled, tmp_path):
    instance = Path(filled.instance_path)
    writer = Writer(instance / "helpdesk.db")
    writer.start()
    try:
        while writer.written < 20:  # the writer is really running before the backup starts
            writer.stop.wait(0.01)
        result = filled.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
        during = writer.written
    finally:
        writer.stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert writer.written > during or during > 20  # writes went on around the backup

    backup = tmp_path / "bk"
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["alembic_revision"] and manifest["helpdesk_version"]
    assert sorted(manifest["files"]) == sorted(
        ["helpdesk.db", "secret_key"]
        + [
            f"attachments/{h[:2]}/{h[2:4]}/{h}"
            for h in {hashlib.sha256(LABEL).hexdigest(), hashlib.sha256(PHOTO).hexdigest()}
        ]
    )
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((backup / name).read_bytes()).hexdigest() == digest
    assert manifest["counts"]["attachments"] == 3 and manifest["counts"]["tickets"] == 2

    fresh = tmp_path / "fresh"
    restored = _run(["restore", str(backup)], fresh)
    assert restored.returncode == 0, restored.stderr
    # The same rows as the snapshot (the writer's later rows are not in it, and nothing is half-written).
    assert _counts(fresh / "helpdesk.db") == {
        t: manifest["counts"][t] for t in _counts(fresh / "helpdesk.db")
    }
    source = _counts(instance / "helpdesk.db")
    assert {t: n for t, n in source.items() if t != "audit_events"} == {
        t: n for t, n in _counts(fresh / "helpdesk.db").items() if t != "audit_events"
    }
    con = sqlite3.connect(fresh / "helpdesk.db")
    for (digest,) in con.execute("SELECT DISTINCT sha256 FROM attachments"):
        restored_file = fresh / "attachments" / digest[:2] / digest[2:4] / digest
        assert (
            restored_file.read_bytes()
            == (instance / "attachments" / digest[:2] / digest[2:4] / digest).read_bytes()
        )
        assert hashlib.sha256(restored_file.read_bytes()).hexdigest() == digest
    con.close()
    assert (fresh / "secret_key").read_text() == (instance / "secret_key").read_text()

    # Search works in the restored instance: its indexes were rebuilt from the database.
    copy = create_app(
        {"INSTANCE_PATH": str(fresh), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{fresh / 'helpdesk.db'}"}
    )
    with copy.app_context():
        hits = search.query("tickets", "الشحنه")
        assert [h.fields["number"] for h in hits] == [
            db.session.execute(db.text("SELECT number FROM tickets ORDER BY id")).scalars().first()
        ]
        db.engine.dispose()


@sqlite_only
def test_restore_refuses_a_damaged_backup(filled, tmp_path):
    assert filled.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    damaged = next(p for p in (tmp_path / "bk" / "attachments").rglob("*") if p.is_file())
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    fresh = tmp_path / "fresh"
    result = _run(["restore", str(tmp_path / "bk")], fresh)
    assert result.returncode != 0
    assert "checksum differs" in result.stderr and "nothing was restored" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (fresh / "attachments").exists()


@sqlite_only
def test_restore_refuses_to_overwrite_an_instance_in_use_without_force(filled, tmp_path):
    runner = filled.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    make_ticket(subject="written after the backup")
    refused = runner.invoke(args=["restore", str(tmp_path / "bk")])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert _counts(Path(filled.instance_path) / "helpdesk.db")["tickets"] == 3
    forced = runner.invoke(args=["restore", "--force", str(tmp_path / "bk")])
    assert forced.exit_code == 0, forced.output
    assert _counts(Path(filled.instance_path) / "helpdesk.db")["tickets"] == 2


@sqlite_only
def test_backup_needs_an_empty_folder(filled, tmp_path):
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "old.txt").write_text("keep me")
    result = filled.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "not an empty folder" in result.output
    assert (tmp_path / "bk" / "old.txt").read_text() == "keep me"


def test_backup_on_postgresql_points_to_pg_dump(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1/helpdesk",
        }
    )
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "bk").exists()
