"""kill -9 the real ``helpdesk mail ingest`` process in the middle of a 500-message batch, several
times, then run it to the end: every message is in the ledger and on a ticket exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from helpdesk.app import configure_engine
from helpdesk.extensions import db
from helpdesk.mail.inbound import process_stored
from helpdesk.mail.models import InboundMessage, InboundStatus, OutboundEmail
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.service import FIRST_TICKET_NUMBER, TICKET_NUMBER_PREFIX
from tests.mail.mailfactory import make_email

MESSAGES = 500
GROUP = 5  # one sender writes five messages: three new tickets, then two replies to the first
KILL_AT = (MESSAGES // 3, MESSAGES // 2, 4 * MESSAGES // 5)  # ledger rows when each run is killed
HELPDESK = str(Path(sys.executable).parent / "helpdesk")


def message_id(i: int) -> str:
    return f"<crash-{i}@customers.example>"


def write_batch(folder: Path) -> list[Path]:
    folder.mkdir()
    files = []
    for i in range(MESSAGES):
        group, place = divmod(i, GROUP)
        headers = {}
        subject = f"طلبي رقم {i} لم يصل" if i % 2 else f"Order {i} has not arrived"
        if place >= 3:  # a reply to the first message of this sender
            first = message_id(group * GROUP)
            headers = {"In-Reply-To": first, "References": first}
            subject = f"Re: Order {group * GROUP}"
        raw = make_email(
            sender=f"Customer {group} <customer{group}@customers.example>",
            subject=subject,
            body=f"Message {i}: where is my order?",
            message_id=message_id(i),
            headers=headers,
        )
        path = folder / f"{i:04d}.eml"
        path.write_bytes(raw)
        files.append(path)
    return files


def ingest_process(files: list[Path], instance: str, database_url: str, output: Path) -> subprocess.Popen:
    """The real command, its JSON lines written to ``output`` (a file, not a pipe: nobody reads a pipe
    until the process is killed, and a full pipe would stop it before the kill point)."""
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": instance,
        "HELPDESK_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",  # every line it printed before the kill reaches us
    }
    with output.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [HELPDESK, "mail", "ingest", *map(str, files)],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )


def ledger_rows(engine, where: str = "true") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM inbound_messages WHERE {where}")).scalar_one()


def kill_when(process: subprocess.Popen, engine, rows: int) -> None:
    """SIGKILL the process as soon as the ledger holds ``rows`` rows."""
    deadline = time.monotonic() + 300  # a hang guard, not an assertion
    while ledger_rows(engine) < rows:
        assert process.poll() is None, f"ingest ended before it was killed: {process.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def results_of(output: str) -> list[dict]:
    """The JSON lines printed; a line cut off by the kill is dropped."""
    found = []
    for line in output.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            found.append(json.loads(line))
    return found


def test_ingest_killed_three_times_keeps_every_message_exactly_once(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    files = write_batch(tmp_path / "batch")
    engine = configure_engine(create_engine(url))
    reported: list[dict] = []
    left_stored = []
    try:
        for run, rows in enumerate(KILL_AT):
            output = tmp_path / f"run{run}.jsonl"
            process = ingest_process(files, app.instance_path, url, output)
            kill_when(process, engine, rows)
            reported += results_of(output.read_text())
            left_stored.append(ledger_rows(engine, "status = 'stored'"))
        # The crash pickup (the worker's job, with no waiting) finishes what the last kill left.
        assert process_stored(older_than=timedelta(0)) == left_stored[-1]
        db.session.commit()
        done_before = ledger_rows(engine, "status <> 'stored'")
        assert done_before == ledger_rows(engine) >= KILL_AT[-1]

        final_output = tmp_path / "final.jsonl"
        final = ingest_process(files, app.instance_path, url, final_output)
        _nothing, errors = final.communicate(timeout=600)
    finally:
        engine.dispose()
    assert final.returncode == 0, errors[-3000:]
    last_run = results_of(final_output.read_text())
    assert len(last_run) == MESSAGES
    actions = Counter(r["action"] for r in last_run)
    # What the killed runs finished is a duplicate now; the rest is done exactly once by this run.
    assert actions["duplicate"] == done_before
    assert actions["created"] + actions["appended"] == MESSAGES - done_before
    assert actions["failed"] == 0

    db.session.expire_all()
    assert process_stored(older_than=timedelta(0)) == 0  # nothing left stored
    all_ids = {message_id(i) for i in range(MESSAGES)}
    ledger = db.session.execute(select(InboundMessage.message_id, InboundMessage.status)).all()
    assert Counter(mid for mid, _status in ledger) == Counter(all_ids)
    assert {status for _mid, status in ledger} == {InboundStatus.PROCESSED}
    on_tickets = db.session.scalars(
        select(Message.email_message_id).where(Message.email_message_id.is_not(None))
    )
    assert Counter(on_tickets) == Counter(all_ids)

    tickets = MESSAGES // GROUP * 3
    numbers = sorted(
        int(n.removeprefix(TICKET_NUMBER_PREFIX)) for n in db.session.scalars(select(Ticket.number))
    )
    assert numbers == list(range(FIRST_TICKET_NUMBER, FIRST_TICKET_NUMBER + tickets))
    replies = db.session.execute(
        select(Message.email_message_id, Ticket.number).join(Ticket, Ticket.id == Message.ticket_id)
    ).all()
    ticket_of = dict(replies)
    for i in range(MESSAGES):
        if i % GROUP >= 3:
            assert ticket_of[message_id(i)] == ticket_of[message_id(i - i % GROUP)]

    # Across all runs, a message is reported as done at most once (a kill may eat the report).
    done_reports = Counter(r["message_id"] for r in reported + last_run if r["action"] != "duplicate")
    assert max(done_reports.values()) == 1
    acknowledgements = db.session.scalars(
        select(OutboundEmail.ticket_id).where(OutboundEmail.kind == "acknowledgement")
    ).all()
    assert len(acknowledgements) == len(set(acknowledgements)) == tickets
    assert db.session.scalar(select(func.count(InboundMessage.id))) == MESSAGES
    print(f"\nkills: {len(KILL_AT)}, rows left stored after each kill: {left_stored}")
