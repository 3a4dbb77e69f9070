import json

from sqlalchemy import func, select

from helpdesk.api.models import WebhookDelivery, WebhookEndpoint
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus, Mailbox, OutboundEmail
from helpdesk.tickets.models import Ticket
from tests.factories import make_queue
from tests.mail.mailfactory import make_email


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_ingest_files_prints_one_json_line_per_message(app, tmp_path):
    make_queue("orders")
    good, bad = tmp_path / "good.eml", tmp_path / "bad.eml"
    good.write_bytes(make_email(message_id="<cli-1@example.com>", subject="طلب عبر الأنبوب"))
    bad.write_bytes(b"\x00\x00")
    result = app.test_cli_runner().invoke(
        args=["mail", "ingest", "--queue", "orders", str(good), str(bad), str(good)]
    )
    assert result.exit_code == 0, result.output
    created, failed, duplicate = _lines(result.output)
    assert created["action"] == "created" and created["message_id"] == "<cli-1@example.com>"
    assert created["ticket"].startswith("HD-") and created["error"] is None
    assert failed["action"] == "failed" and failed["error"] and failed["ticket"] is None
    assert duplicate == {**created, "action": "duplicate"}
    assert [line["file"] for line in (created, failed, duplicate)] == [str(good), str(bad), str(good)]
    db.session.commit()
    ticket = db.session.scalar(select(Ticket))
    assert ticket.subject == "طلب عبر الأنبوب" and ticket.queue.slug == "orders"


def test_ingest_from_standard_input(app):
    result = app.test_cli_runner().invoke(args=["mail", "ingest", "-"], input=make_email(subject="piped"))
    assert result.exit_code == 0
    assert _lines(result.output)[0]["action"] == "created"
    assert _lines(result.output)[0]["file"] == "-"


def test_export_carries_the_visible_text_beside_the_full_text_and_the_html(app, tmp_path):
    reply = (
        "From: Ahmed <ahmed@example.sa>\r\nTo: support@helpdesk.example\r\nSubject: Re: order\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Thanks!\r\n\r\nOn Sun, Nov 22, 2026 at 10:15 AM Support <s@x.example> wrote:\r\n> Shipped.\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Thanks!</p>\r\n--b--\r\n"
    )
    path = tmp_path / "reply.eml"
    path.write_bytes(reply.encode())
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mail", "ingest", str(path)]).exit_code == 0
    exported = runner.invoke(args=["export", "--format", "jsonl"])
    [line] = [line for line in exported.stdout.splitlines() if line.startswith("{")]
    [message] = json.loads(line)["messages"]
    assert message["visible_text"] == "Thanks!"
    assert "> Shipped." in message["text"]
    assert "<p>Thanks!</p>" in message["html"]


def test_ingest_exits_non_zero_only_when_it_cannot_run(app, tmp_path):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["mail", "ingest", str(tmp_path / "nope.eml")])
    assert missing.exit_code != 0 and "Cannot read" in missing.output
    unknown = runner.invoke(args=["mail", "ingest", "--queue", "nope", "-"], input=b"x")
    assert unknown.exit_code != 0 and "No queue named 'nope'" in unknown.output


def test_mailbox_command_configures_a_queue_mailbox(app):
    make_queue("orders")
    result = app.test_cli_runner().invoke(
        args=[
            "mail",
            "mailbox",
            "--queue",
            "orders",
            "--host",
            "imap.example.com",
            "--user",
            "orders",
            "--password-env",
            "ORDERS_IMAP_PASSWORD",
            "--move-to",
            "Done",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.commit()
    mailbox = db.session.scalar(select(Mailbox))
    assert (mailbox.host, mailbox.port, mailbox.use_tls, mailbox.password_env, mailbox.move_to) == (
        "imap.example.com",
        993,
        True,
        "ORDERS_IMAP_PASSWORD",
        "Done",
    )


def _ingest(app, files) -> list[dict]:
    result = app.test_cli_runner().invoke(args=["mail", "ingest", *map(str, files)])
    assert result.exit_code == 0, result.output
    return _lines(result.output)


def _write(folder, count: int, prefix: str = "batch") -> list:
    files = []
    for n in range(count):
        files.append(folder / f"{prefix}-{n}.eml")
        files[-1].write_bytes(
            make_email(
                sender=f"Customer {n} <c{n}@example.com>",
                message_id=f"<{prefix}-{n}@example.com>",
                subject=f"Order {n}",
            )
        )
    return files


def test_a_batch_import_gives_the_same_results_as_one_by_one(app, tmp_path):
    files = _write(tmp_path, 30)  # more than one batch
    reply = tmp_path / "reply.eml"
    reply.write_bytes(
        make_email(
            sender="Customer 3 <c3@example.com>",
            message_id="<reply@example.com>",
            subject="Re: Order 3",
            headers={"In-Reply-To": "<batch-3@example.com>"},
        )
    )
    lines = _ingest(app, [*files, reply, files[0]])
    assert [line["action"] for line in lines] == ["created"] * 30 + ["appended", "duplicate"]
    assert lines[30]["ticket"] == lines[3]["ticket"] and lines[31]["ticket"] == lines[0]["ticket"]
    db.session.commit()
    tickets = {t.number: t for t in db.session.scalars(select(Ticket))}
    assert len(tickets) == 30
    assert [m.display_text for m in tickets[lines[3]["ticket"]].messages][-1].startswith("Hello")
    ledger = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [row.status for row in ledger] == [InboundStatus.PROCESSED] * 31
    assert (
        ledger[3].ticket_id == tickets[lines[3]["ticket"]].id
        and ledger[3].sender == "Customer 3 <c3@example.com>"
    )
    acknowledgements = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.kind == "acknowledgement")
    )
    assert sorted(e.ticket_id for e in acknowledgements) == sorted(t.id for t in tickets.values())


def test_a_bad_message_in_a_batch_fails_alone(app, tmp_path):
    endpoint = WebhookEndpoint(url="https://hooks.example.com/in", secret="s", events=["ticket.created"])
    db.session.add(endpoint)
    db.session.commit()
    files = _write(tmp_path, 5)
    no_sender = tmp_path / "no-sender.eml"
    no_sender.write_bytes(b"Subject: nobody\r\nMessage-ID: <nobody@example.com>\r\n\r\nwho am I?\r\n")
    unreadable = tmp_path / "empty.eml"
    unreadable.write_bytes(b"")
    lines = _ingest(app, [*files[:2], no_sender, *files[2:4], unreadable, files[4]])
    assert [line["action"] for line in lines] == ["created"] * 2 + ["failed"] + ["created"] * 2 + [
        "failed",
        "created",
    ]
    assert lines[2]["error"] == "the message has no sender address"
    db.session.commit()
    assert db.session.scalar(select(func.count(Ticket.id))) == 5
    failed = db.session.scalars(
        select(InboundMessage).where(InboundMessage.status == InboundStatus.FAILED)
    ).all()
    assert len(failed) == 2 and all(row.error for row in failed)
    # The batch's first attempt was rolled back: each good ticket is announced exactly once.
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    assert sorted(d.payload["data"]["ticket"]["number"] for d in deliveries) == sorted(
        line["ticket"] for line in lines if line["action"] == "created"
    )
