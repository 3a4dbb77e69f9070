"""Two ``helpdesk worker`` processes and two web processes on one PostgreSQL database: 1,000 inbound
messages and the acknowledgements they cause are each handled exactly once, each ticket's search
document is written once with it, and the web processes keep answering meanwhile."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

from helpdesk.app import configure_engine
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.inbound import process_stored
from helpdesk.mail.ledger import store_raw
from helpdesk.mail.models import InboundMessage, InboundStatus, OutboundEmail, OutboxStatus
from helpdesk.search import query
from helpdesk.search.indexer import INDEX_WRITER_LOCK, apply_pending_jobs
from helpdesk.search.models import IndexJob, SearchDocument
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.service import FIRST_TICKET_NUMBER, TICKET_NUMBER_PREFIX
from tests.api.api_helpers import api_token
from tests.factories import POSTGRES_URL, make_ticket
from tests.mail.mailfactory import make_email
from tests.smtp_sink import SmtpSink, free_port

MESSAGES = 1000
HELPDESK = str(Path(sys.executable).parent / "helpdesk")
SECRET_KEY = "scale-out-secret"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="scale-out needs PostgreSQL (HELPDESK_TEST_DATABASE_URL)"),
]


def message_id(i: int) -> str:
    return f"<scale-{i}@customers.example>"


def store_backlog() -> None:
    """1,000 messages in the ledger, stored but not processed, as a crash or an outage leaves them."""
    for i in range(MESSAGES):
        raw = make_email(
            sender=f"Customer {i} <customer{i}@customers.example>",
            subject=f"Order {i} has not arrived" if i % 2 else f"طلبي رقم {i} لم يصل",
            body=f"Message {i}: where is my order?",
            message_id=message_id(i),
        )
        store_raw(raw, source="pipe")
    # Old enough for the workers' pickup, which leaves fresh rows to whoever is storing them.
    db.session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()


def start(name: str, args: list[str], env: dict, logs: Path) -> subprocess.Popen:
    with (logs / f"{name}.log").open("w") as log:  # the process keeps its own copy of the file
        return subprocess.Popen([HELPDESK, *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to every process still running, then wait for each (killed after 30 s)."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_serving(url: str, process: subprocess.Popen, token: str) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not an assertion
    while True:
        assert process.poll() is None, "the web process exited"
        try:
            if get(url, token)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.2)


def progress(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT"
                    " (SELECT count(*) FROM inbound_messages WHERE status = 'stored') AS stored,"
                    " (SELECT count(*) FROM outbound_emails WHERE status = 'sent') AS sent,"
                    " (SELECT count(*) FROM outbound_emails WHERE status <> 'sent') AS unsent,"
                    " (SELECT count(*) FROM search_index_jobs) AS index_jobs"
                )
            )
            .one()
            ._mapping
        )


def test_two_workers_and_two_web_processes_handle_each_message_once(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    _staff, token = api_token()
    began = time.monotonic()
    store_backlog()
    phases = {"stored": time.monotonic() - began}
    sink = SmtpSink().start()
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": app.instance_path,  # the search index and attachments are in the database
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_SECRET_KEY": SECRET_KEY,
        "HELPDESK_MAIL_SERVER": "127.0.0.1",
        "HELPDESK_MAIL_PORT": str(sink.port),
        "HELPDESK_WORKER_INTERVAL": "1",
    }
    ports = [free_port(), free_port()]
    processes = {
        **{
            f"web{n}": start(
                f"web{n}", ["serve", "--no-worker", "--threads", "2", "--port", str(port)], env, tmp_path
            )
            for n, port in enumerate(ports, 1)
        },
        "worker1": start("worker1", ["worker"], env, tmp_path),
        "worker2": start("worker2", ["worker"], env, tmp_path),
    }
    engine = configure_engine(create_engine(url))
    answers: Counter = Counter()
    try:
        api = [f"http://127.0.0.1:{port}/api/v1/tickets?limit=5" for port in ports]
        for n, page in enumerate(api, 1):
            wait_until_serving(page, processes[f"web{n}"], token)
        phases["serving"] = time.monotonic() - began
        deadline = time.monotonic() + 240  # a hang guard, not an assertion
        while True:
            for page in api:  # the web processes answer while the workers run
                status, _body = get(page, token)
                answers[status] += 1
            state = progress(engine)
            if state["stored"] == 0:
                phases.setdefault("parsed", time.monotonic() - began)
            if state == {"stored": 0, "sent": MESSAGES, "unsent": 0, "index_jobs": 0}:
                break
            for name, process in processes.items():
                assert process.poll() is None, f"{name} exited: {(tmp_path / f'{name}.log').read_text()}"
            assert time.monotonic() < deadline, f"not done: {state}"
            time.sleep(0.5)
        phases["all done"] = time.monotonic() - began
        final_pages = [json.loads(get(page, token)[1]) for page in api]
    finally:
        stop(processes)
        sink.stop()
        engine.dispose()
    logs = {name: (tmp_path / f"{name}.log").read_text() for name in processes}

    # Every message once in the ledger, once on a ticket; one ticket each, numbered without gaps.
    db.session.expire_all()
    ledger = db.session.execute(select(InboundMessage.message_id, InboundMessage.status)).all()
    assert Counter(mid for mid, _s in ledger) == Counter(message_id(i) for i in range(MESSAGES))
    assert {status for _mid, status in ledger} == {InboundStatus.PROCESSED}
    on_tickets = Counter(
        db.session.scalars(select(Message.email_message_id).where(Message.email_message_id.is_not(None)))
    )
    assert on_tickets == Counter(message_id(i) for i in range(MESSAGES))
    numbers = sorted(
        int(n.removeprefix(TICKET_NUMBER_PREFIX)) for n in db.session.scalars(select(Ticket.number))
    )
    assert numbers == list(range(FIRST_TICKET_NUMBER, FIRST_TICKET_NUMBER + MESSAGES))

    # Both workers took a share of the backlog, and together exactly all of it.
    shares = {
        name: sum(int(n) for n in re.findall(r"processed (\d+) stored message", logs[name]))
        for name in ("worker1", "worker2")
    }
    assert sum(shares.values()) == MESSAGES
    assert all(shares.values()), shares

    # One acknowledgement per ticket, claimed once, delivered once.
    outbox = db.session.execute(
        select(OutboundEmail.ticket_id, OutboundEmail.message_id, OutboundEmail.status).add_columns(
            OutboundEmail.attempts
        )
    ).all()
    assert len(outbox) == MESSAGES
    assert len({row.ticket_id for row in outbox}) == MESSAGES
    assert {(row.status, row.attempts) for row in outbox} == {(OutboxStatus.SENT, 1)}
    delivered = Counter(str(m["Message-ID"]) for m in sink.messages)
    assert delivered == Counter(row.message_id for row in outbox)
    assert Counter(str(m["To"]) for m in sink.messages) == Counter(
        f"customer{i}@customers.example" for i in range(MESSAGES)
    )

    # The web processes answered every request, and both see the same, complete data.
    assert answers[200] >= 4 and set(answers) == {200}, answers
    assert final_pages[0] == final_pages[1]
    assert len(final_pages[0]["items"]) == 5

    # No index writer at all (the search backend on PostgreSQL): each ticket's document was written
    # in the transaction that filed it, once, and no index job was ever queued.
    assert db.session.scalar(select(func.count(IndexJob.id))) == 0
    indexed = Counter(
        db.session.scalars(select(SearchDocument.doc_id).where(SearchDocument.index_name == "tickets"))
    )
    assert indexed == Counter(str(i) for i in db.session.scalars(select(Ticket.id)))
    for name, log in logs.items():
        assert "Traceback" not in log, f"{name}: {log[-3000:]}"
        assert "LockError" not in log and "locked by another writer" not in log, name
    print(f"\nworker shares: {shares}; web answers: {dict(answers)}; seconds after start: {phases}")


def test_stored_pickup_skips_a_row_another_worker_holds(app):
    first, _ = store_raw(make_email(message_id="<held@customers.example>"), source="pipe")
    second, _ = store_raw(make_email(message_id="<free@customers.example>"), source="pipe")
    other_worker = configure_engine(create_engine(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with other_worker.connect() as conn:
            conn.execute(text("SELECT id FROM inbound_messages WHERE id = :id FOR UPDATE"), {"id": first})
            # Waiting for that row would hang this worker; it must skip it and take the next one.
            db.session.execute(text("SET lock_timeout = '3s'"))
            assert process_stored(older_than=timedelta(0)) == 1
            conn.rollback()
    finally:
        other_worker.dispose()
    statuses = dict(db.session.execute(select(InboundMessage.id, InboundMessage.status)).all())
    assert statuses == {first: InboundStatus.STORED, second: InboundStatus.PROCESSED}
    assert process_stored(older_than=timedelta(0)) == 1  # released: now it is taken
    assert db.session.get(InboundMessage, first).status == InboundStatus.PROCESSED


def test_a_second_index_writer_leaves_the_jobs_to_the_first(app):
    """With the Whoosh backend chosen on PostgreSQL (HELPDESK_SEARCH_BACKEND=whoosh)."""
    app.config["SEARCH_BACKEND"] = "whoosh"
    make_ticket(subject="Kettle lid cracked")
    other_worker = configure_engine(create_engine(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with other_worker.connect() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEX_WRITER_LOCK})
            assert apply_pending_jobs() == {"applied": 0}
            assert db.session.scalar(select(func.count(IndexJob.id))) >= 1
            conn.rollback()
    finally:
        other_worker.dispose()
    assert apply_pending_jobs()["applied"] >= 1
    numbers = [hit.fields["number"] for hit in query("tickets", "kettle")]
    assert numbers == [db.session.scalar(select(Ticket.number))]
