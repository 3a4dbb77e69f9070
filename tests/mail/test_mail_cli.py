import json

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail.models import Mailbox
from helpdesk.tickets.models import Ticket
from tests.conftest import make_queue
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
    db.session.commit()
    ticket = db.session.scalar(select(Ticket))
    assert ticket.subject == "طلب عبر الأنبوب" and ticket.queue.slug == "orders"


def test_ingest_from_standard_input(app):
    result = app.test_cli_runner().invoke(args=["mail", "ingest", "-"], input=make_email(subject="piped"))
    assert result.exit_code == 0
    assert _lines(result.output)[0]["action"] == "created"


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
