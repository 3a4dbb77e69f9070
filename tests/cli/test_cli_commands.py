import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from helpdesk.schema import include_object
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from helpdesk.tickets.models import MessageKind, Status
from tests.factories import make_staff, make_ticket

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_export_writes_one_ticket_per_line(app):
    agent = make_staff()
    ticket = make_ticket(subject="تأخر الطلب", body="وين طلبي؟")
    service.add_message(
        ticket,
        author=agent,
        body="On its way",
        attachments=[IncomingFile("label.pdf", "application/pdf", b"12345")],
    )
    service.add_message(ticket, author=agent, body="courier says tomorrow", kind=MessageKind.NOTE)
    make_ticket()
    result = app.test_cli_runner().invoke(args=["export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["number"] == ticket.number
    assert record["subject"] == "تأخر الطلب"
    assert record["status"] == "open" and record["priority"] == "normal" and record["channel"] == "portal"
    assert record["customer"] == {"name": ticket.customer.name, "email": ticket.customer.email}
    kinds = [(m["kind"], m["author_email"], m["text"]) for m in record["messages"]]
    assert kinds[0] == ("reply", ticket.customer.email, "وين طلبي؟")
    assert ("reply", agent.email, "On its way") in kinds
    assert ("note", agent.email, "courier says tomorrow") in kinds
    reply = next(m for m in record["messages"] if m["text"] == "On its way")
    assert reply["attachments"] == [{"filename": "label.pdf", "size": 5, "content_type": "application/pdf"}]
    assert db.session.query(AuditEvent).filter_by(action="tickets.exported").one().details["count"] == 2


def test_export_to_a_file(app, tmp_path):
    make_ticket()
    out = tmp_path / "tickets.jsonl"
    result = app.test_cli_runner().invoke(args=["export", "-o", str(out)])
    assert result.exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1


def test_worker_once_runs_every_job(app):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "tickets.auto_close: 0" in result.output
    assert "mail.send_outbox" in result.output


def test_demo_loads_every_status_and_channel_and_refuses_a_second_time(app):
    from helpdesk.auth.models import StaffUser
    from helpdesk.customers.models import Customer, Order
    from helpdesk.demo.whatsapp import CONVERSATIONS
    from helpdesk.kb.models import Article
    from helpdesk.tickets.models import Channel, Ticket

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--tickets", "400"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.test" in result.output and "demo1234" in result.output
    whatsapp = len(CONVERSATIONS)  # the demo number's conversations, besides the 400
    assert db.session.query(Ticket).count() == 400 + whatsapp
    assert db.session.query(Customer).count() == 300
    assert db.session.query(StaffUser).count() == 8
    assert db.session.query(Order).count() >= 300
    articles = db.session.query(Article).all()
    assert len(articles) == 80
    assert sorted({a.locale for a in articles}) == ["ar", "en"]
    assert {t.status for t in db.session.query(Ticket)} == set(Status)
    assert {t.channel for t in db.session.query(Ticket)} == set(Channel)
    # Second run: an error without --if-empty, a no-op with it.
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0 and "already" in again.output
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0
    assert db.session.query(Ticket).count() == 400 + whatsapp


def test_demo_logins_work(app, client):
    app.test_cli_runner().invoke(args=["demo", "--tickets", "20"])
    for email, target in [
        ("admin@demo.test", "/staff/login"),
        ("agent3@demo.test", "/staff/login"),
        ("customer7@demo.test", "/login"),
    ]:
        response = client.submit(target, {"email": email, "password": "demo1234"})
        assert response.status_code == 302, email
        client.submit("/logout")


def _run_cli(args: list[str], instance: Path, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_INSTANCE_PATH"] = str(instance)
    env.update({f"HELPDESK_{name}": value for name, value in settings.items()})
    return subprocess.run(
        [str(Path(sys.executable).parent / "helpdesk"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_creates_the_database_and_is_safe_to_repeat(tmp_path):
    instance = tmp_path / "fresh"
    first = _run_cli(["init"], instance)
    assert first.returncode == 0, first.stderr
    assert (instance / "helpdesk.db").exists()
    assert (instance / "secret_key").exists()
    second = _run_cli(["init"], instance)
    assert second.returncode == 0, second.stderr


def test_db_commands_are_flask_migrates_and_load_on_demand(tmp_path):
    instance = tmp_path / "fresh"
    assert _run_cli(["init"], instance).returncode == 0
    current = _run_cli(["db", "current"], instance)
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout
    assert "Perform database migrations" in _run_cli(["db", "--help"], instance).stdout
    unknown = _run_cli(["db", "frobnicate"], instance)
    assert unknown.returncode == 2
    assert "No such command 'frobnicate'" in unknown.stderr


LOADED_WHEN_USED = (
    *("alembic", "flask_migrate", "mako", "zxcvbn"),
    *("authlib", "webauthn", "httpx", "rich", "pygments", "pygal", "holidays", "redis", "requests"),
    "cryptography",
)


def test_a_web_process_does_not_load_the_migration_tools(tmp_path):
    """Alembic (with Mako and Pygments) costs a web process about 9 MB it never uses; zxcvbn's
    password lists 13 MB, needed only when someone chooses a password. The libraries of what is
    not set up (single sign-on, Redis) or not yet used (passkeys, charts, public holidays, calls to
    a shop's or WhatsApp's API with httpx and its rich and pygments) wait too: about 29 MB, and
    cryptography (sealed secrets: shop tokens, two-step sign-in) 10 MB more."""
    assert _run_cli(["init"], tmp_path).returncode == 0
    probe = (
        "import sys\n"
        "from helpdesk import create_app\n"
        f"app = create_app({{'INSTANCE_PATH': {str(tmp_path)!r}}})\n"
        "assert app.test_client().get('/kb/search?q=order').status_code == 200\n"
        "assert app.test_client().get('/signup').status_code == 200\n"
        f"print(sorted(m for m in {LOADED_WHEN_USED!r} if m in sys.modules))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "HELPDESK_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_unknown_command_fails_with_a_message(tmp_path):
    result = _run_cli(["frobnicate"], tmp_path / "x")
    assert result.returncode != 0
    assert "No such command" in result.stderr


def test_a_wrong_setting_is_a_one_line_message_not_a_traceback(tmp_path):
    result = _run_cli(["routes"], tmp_path / "x", LIVE_PORT="five thousand")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: HELPDESK_LIVE_PORT must be a whole number, got 'five thousand'"


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({}, "HELPDESK_SECRET_KEY"),
        ({"SECRET_KEY": "shared"}, "PostgreSQL"),
        ({"SECRET_KEY": "shared", "DATABASE_URL": "postgresql+psycopg://h/db"}, "HELPDESK_REDIS_URL"),
        (
            {"SECRET_KEY": "s", "DATABASE_URL": "postgresql+psycopg://h/db", "BLOB_STORE": "disk"},
            "HELPDESK_BLOB_STORE=database",
        ),
        (
            {"SECRET_KEY": "s", "DATABASE_URL": "postgresql+psycopg://h/db", "SEARCH_BACKEND": "whoosh"},
            "HELPDESK_SEARCH_BACKEND=postgres",
        ),
    ],
)
def test_a_node_of_several_hosts_refuses_to_keep_anything_of_its_own(tmp_path, settings, missing):
    """Nothing is written to the node's folder: no generated secret key, no database."""
    instance = tmp_path / "node"
    result = _run_cli(["serve"], instance, SEVERAL_HOSTS="1", **settings)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: HELPDESK_SEVERAL_HOSTS is on") and missing in result.stderr
    assert "Traceback" not in result.stderr
    assert not instance.exists()


@pytest.mark.skipif(
    os.environ.get("HELPDESK_TEST_DATABASE_URL") is not None, reason="packaging is database-free"
)
def test_wheel_ships_templates_translations_and_migrations(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("helpdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "helpdesk/_shipped/templates/base.html" in names
    assert "helpdesk/_shipped/translations/ar/LC_MESSAGES/messages.po" in names
    assert "helpdesk/_shipped/migrations/env.py" in names
    assert "helpdesk/static/css/helpdesk.css" in names
    assert "helpdesk/static/vendor/icons/inbox.svg" in names  # from npm, git-ignored, still shipped
    assert "helpdesk/static/vendor/fonts/plex-arabic-400.woff2" in names


def _wait_for_http(url: str, timeout: float = 30.0) -> bytes:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_answers_in_arabic_and_stops_on_sigterm(tmp_path):
    import signal

    from tests.smtp_sink import free_port

    instance = tmp_path / "served"
    assert _run_cli(["init"], instance).returncode == 0
    port = free_port()
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance)}
    env.pop("HELPDESK_DATABASE_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "helpdesk"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for_http(f"http://127.0.0.1:{port}/").decode()
        assert '<html lang="ar" dir="rtl">' in page
        assert "كيف يمكننا مساعدتك اليوم؟" in page
        htmx = _wait_for_http(f"http://127.0.0.1:{port}/static/vendor/htmx.min.js")
        assert b"htmx" in htmx
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output


def test_worker_stops_cleanly_on_sigterm(tmp_path):
    import signal
    import time

    instance = tmp_path / "worker"
    assert _run_cli(["init"], instance).returncode == 0
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance)}
    env.pop("HELPDESK_DATABASE_URL", None)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "helpdesk"), "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    started = ""
    while "worker started" not in started and time.monotonic() < deadline:
        started += worker.stdout.readline()
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert "worker stopped" in started + output
