"""Time our app on the generated dataset: in-process (Flask test client, signed in) and over HTTP
(waitress via `helpdesk serve`, gunicorn with 2 workers), plus ingest, the SLA pass and memory.

Operations are found by endpoint name in the app's URL map, so the harness runs against whatever
main holds: a page that does not exist yet is reported as "not available", never as a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import click
from flask import Flask
from sqlalchemy import select

from bench.generate import AGENT_EMAIL, BIG_CUSTOMER_EMAIL, DATA_DIR, PASSWORD, bench_app
from bench.ingest import run_ingest_command
from bench.measure import PeakMemory, time_requests
from bench.words import SEARCH_TERMS

ROOT = Path(__file__).resolve().parent.parent
NOT_AVAILABLE = "not available"


@dataclass
class Operation:
    """One timed page: who is signed in and the URLs to cycle through (None: not available)."""

    name: str
    label: str
    who: str  # "staff" or "customer"
    urls: list[str] | None
    note: str = ""


# --- finding the operations in whatever the app holds ---------------------------------------------


def _rule_for(app: Flask, *, endpoints: tuple[str, ...] = (), contains: tuple[str, ...] = ()) -> str | None:
    """The path of the first GET rule without arguments whose endpoint is one of ``endpoints`` or
    whose endpoint contains every word of ``contains``."""
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ()) and not r.arguments]
    for name in endpoints:
        for rule in rules:
            if rule.endpoint == name:
                return rule.rule
    if contains:
        for rule in rules:
            if all(word in rule.endpoint for word in contains):
                return rule.rule
    return None


def _follow_next(get_html: Callable[[str], str], first: str, pages: int) -> str | None:
    """The URL of page ``pages`` reached by following the "next page" link (a link with a keyset
    cursor ``after=``) the way a user would; None when the queue has fewer pages."""
    url = first
    for _ in range(pages - 1):
        html = get_html(url)
        links = [unescape(h) for h in re.findall(r'href="([^"]*[?&](?:amp;)?after=[^"]*)"', html)]
        if not links:
            return None
        url = urljoin(url, links[-1])
    return url


def operations(app: Flask, get_html: Callable[[str], str]) -> list[Operation]:
    from helpdesk.customers.models import Customer, CustomerEmail
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    with app.app_context():
        big = db.session.scalar(
            select(Customer.id).join(CustomerEmail).where(CustomerEmail.email == BIG_CUSTOMER_EMAIL)
        )
        latest = db.session.scalar(
            select(Ticket.number).where(Ticket.customer_id == big).order_by(Ticket.created_at.desc()).limit(1)
        )
        ticket_rule = next((r for r in app.url_map.iter_rules() if r.endpoint == "agents.ticket"), None)
        db.session.remove()
    queue = _rule_for(app, endpoints=("agents.queue",))
    cases = _rule_for(app, endpoints=("portal.cases",))
    search = _rule_for(app, endpoints=("kb.search",), contains=("kb", "search"))
    suggest = _rule_for(app, endpoints=("portal.suggestions", "kb.suggestions"), contains=("suggest",))
    ticket_url = ticket_rule.rule.replace("<number>", latest) if ticket_rule and latest else None
    page50 = _follow_next(get_html, queue, 50) if queue else None

    def searches(path: str | None, language: str, param: str = "q") -> list[str] | None:
        if path is None:
            return None
        return [f"{path}?{param}={term}&lang={language}" for term in SEARCH_TERMS[language]]

    suggestion_urls = None
    if suggest:
        terms = SEARCH_TERMS["ar"] + SEARCH_TERMS["en"]
        suggestion_urls = [f"{suggest}?q={t}&subject={t}" for t in terms]
    return [
        Operation("queue_default", "Agent queue, default view", "staff", [queue] if queue else None),
        Operation(
            "queue_filtered",
            "Agent queue, filtered (unassigned)",
            "staff",
            [f"{queue}?view=unassigned"] if queue else None,
        ),
        Operation(
            "queue_page50",
            "Agent queue, page 50 (keyset)",
            "staff",
            [page50] if page50 else None,
            "" if page50 or not queue else "the queue has fewer than 50 pages",
        ),
        Operation(
            "ticket_page",
            "Ticket page, customer with 50 tickets + 100 orders",
            "staff",
            [ticket_url] if ticket_url else None,
        ),
        Operation(
            "similar_panel",
            "Similar solved tickets panel (loaded after the ticket page)",
            "staff",
            [ticket_url + "/similar"] if ticket_url else None,
        ),
        Operation("portal_cases", 'Portal "my cases" (51 cases)', "customer", [cases] if cases else None),
        Operation("kb_search_ar", "KB search, Arabic", "customer", searches(search, "ar")),
        Operation("kb_search_en", "KB search, English", "customer", searches(search, "en")),
        Operation("suggestions", "Live suggestions (case form)", "customer", suggestion_urls),
    ]


# --- clients --------------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    if not found:
        raise click.ClickException("No CSRF token on the sign-in page.")
    return found.group(1)


class InProcess:
    """The Flask test client, signed in through the real sign-in form."""

    def __init__(self, app: Flask, who: str) -> None:
        self.client = app.test_client()
        email, path = (AGENT_EMAIL, "/staff/login") if who == "staff" else (BIG_CUSTOMER_EMAIL, "/login")
        token = _csrf(self.client.get(path).get_data(as_text=True))
        answer = self.client.post(path, data={"email": email, "password": PASSWORD, "csrf_token": token})
        if answer.status_code not in (302, 303):
            raise click.ClickException(f"Sign-in as {email} failed (HTTP {answer.status_code}).")

    def get(self, url: str) -> int:
        return self.client.get(url).status_code

    def html(self, url: str) -> str:
        return self.client.get(url).get_data(as_text=True)


class OverHttp:
    """A keep-alive HTTP session against a server on loopback, signed in the same way."""

    def __init__(self, base: str, who: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        email, path = (AGENT_EMAIL, "/staff/login") if who == "staff" else (BIG_CUSTOMER_EMAIL, "/login")
        token = _csrf(self.session.get(base + path).text)
        answer = self.session.post(
            base + path,
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        if answer.status_code not in (302, 303):
            raise click.ClickException(f"Sign-in as {email} over HTTP failed (HTTP {answer.status_code}).")

    def get(self, url: str) -> int:
        return self.session.get(self.base + url, allow_redirects=False).status_code

    def html(self, url: str) -> str:
        return self.session.get(self.base + url).text


def time_operations(ops: list[Operation], client_for: Callable[[str], object], count: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    clients: dict[str, object] = {}
    for op in ops:
        if op.urls is None:
            results[op.name] = {"skipped": op.note or NOT_AVAILABLE}
            continue
        if op.who not in clients:  # one sign-in per kind of user
            clients[op.who] = client_for(op.who)
        client = clients[op.who]
        urls = op.urls
        results[op.name] = time_requests(lambda i, c=client, u=urls: c.get(u[i % len(u)]), count)
    return results


# --- servers --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_INSTANCE_PATH": str(data_dir / "instance"),
    }


def server_commands(port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    commands = {
        "waitress": [str(bin_dir / "helpdesk"), "serve", "--no-worker", "--port", str(port)],
    }
    gunicorn = bin_dir / "gunicorn"
    if gunicorn.exists():
        commands["gunicorn"] = [
            str(gunicorn),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "helpdesk:create_app()",
        ]
    return commands


def wait_until_up(base: str, process: subprocess.Popen, path: str = "/", timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"The server exited with code {process.returncode}.")
        try:
            requests.get(base + path, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise click.ClickException(f"The server on {base} did not answer within {timeout:.0f} s.")


def time_over_http(
    app: Flask, server: str, database_url: str, data_dir: Path, count: int, echo: Callable = click.echo
) -> dict:
    port = _free_port()
    command = server_commands(port)[server]
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / f"{server}.log").open("w")
    process = subprocess.Popen(
        command, env=_server_env(database_url, data_dir), cwd=ROOT, stdout=log, stderr=log
    )
    try:
        wait_until_up(base, process)
        with PeakMemory(process.pid) as memory:
            ops = operations(app, OverHttp(base, "staff").html)
            results = time_operations(ops, lambda who: OverHttp(base, who), count)
        results["peak_rss_mb"] = memory.peak_mb
        echo(f"  {server}: peak RSS of a web process {memory.peak_mb} MB")
        return results
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# --- ingest and the SLA pass (they write, so on a scratch copy) -------------------------------------


def scratch_database(database_url: str, data_dir: Path) -> tuple[str, str]:
    """A copy of the SQLite bench database to write into; PostgreSQL runs on the bench database
    itself (ingest uses fresh Message-IDs per run, so the data only grows a little)."""
    if not database_url.startswith("sqlite:///"):
        return database_url, "on the bench database itself (PostgreSQL)"
    source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    target_path = data_dir / "scratch.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target_path}{suffix}").unlink(missing_ok=True)
    target = sqlite3.connect(target_path)
    source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{target_path}", "on a copy of the bench database"


def time_ingest(app: Flask, data_dir: Path) -> dict:
    """Email ingest as a batch import runs it: `helpdesk mail ingest FILE…` over all the `.eml` files
    in one invocation, in-process so that process start-up is not what gets measured. The same
    function as `make bench-ingest` (bench/ingest.py), so both report the same thing."""
    group = app.cli.commands.get("mail")
    if group is None or "ingest" not in getattr(group, "commands", {}):
        return {"skipped": "`helpdesk mail ingest` is not on this branch yet"}
    run = uuid.uuid4().hex[:8].encode()  # fresh Message-IDs, so a second run is not all duplicates
    folder = data_dir / f"mail-run-{run.decode()}"
    folder.mkdir()
    try:
        files = []
        for source in sorted((data_dir / "mail").glob("*.eml")):
            raw = re.sub(
                rb"Message-ID: <bench-", b"Message-ID: <bench-" + run + b"-", source.read_bytes(), count=1
            )
            files.append(folder / source.name)
            files[-1].write_bytes(raw)
        outcome = run_ingest_command(app, files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if "error" in outcome:
        return outcome
    return {
        "messages": len(files),
        "failed": outcome["actions"].get("failed", 0),
        "seconds": round(outcome["seconds"], 2),
        "messages_per_second": round(len(files) / outcome["seconds"], 1),
        "messages_per_cpu_second": round(len(files) / outcome["cpu_seconds"], 1),
    }


def time_sla_pass(app: Flask) -> dict:
    """One pass of the SLA work over every open ticket: recompute the due times, then the breach check
    the worker runs every minute (its first pass records every breach of the generated backlog)."""
    from helpdesk.extensions import db
    from helpdesk.sla.breaches import check_breaches
    from helpdesk.sla.service import recompute_all_open

    with app.app_context():
        start = time.perf_counter()
        tickets = recompute_all_open()
        recompute = time.perf_counter() - start
        start = time.perf_counter()
        counts = check_breaches()
        check = time.perf_counter() - start
        start = time.perf_counter()
        check_breaches()
        second_check = time.perf_counter() - start
        db.session.remove()
    return {
        "open_tickets": tickets,
        "recompute_seconds": round(recompute, 2),
        "first_check_seconds": round(check, 2),
        "first_check_new": counts,
        "steady_check_seconds": round(second_check, 2),
    }


def profile(app: Flask, op_name: str, count: int, out_dir: Path) -> Path:
    """Profile one in-process operation with pyinstrument; writes an HTML and a text report."""
    from pyinstrument import Profiler

    ops = {op.name: op for op in operations(app, InProcess(app, "staff").html)}
    op = ops.get(op_name)
    if op is None or op.urls is None:
        raise click.ClickException(f"Cannot profile {op_name}: not available.")
    client = InProcess(app, op.who)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in range(count):
        client.get(op.urls[i % len(op.urls)])
    profiler.stop()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"profile-{op_name}.html").write_text(profiler.output_html())
    text_path = out_dir / f"profile-{op_name}.txt"
    text_path.write_text(profiler.output_text(unicode=True, color=False))
    return text_path


def run_ours(
    database_url: str, *, count: int, http: bool, data_dir: Path = DATA_DIR, echo: Callable = click.echo
) -> dict:
    app = bench_app(database_url, data_dir)
    results: dict = {}
    echo(f"Ours, in-process ({count} requests per operation)…")
    ops = operations(app, InProcess(app, "staff").html)
    results["labels"] = {op.name: op.label for op in ops}
    results["inprocess"] = time_operations(ops, lambda who: InProcess(app, who), count)
    if http:
        for server in server_commands(0):
            echo(f"Ours over HTTP with {server}…")
            results[server] = time_over_http(app, server, database_url, data_dir, count, echo)
    scratch_url, where = scratch_database(database_url, data_dir)
    scratch = bench_app(scratch_url, data_dir)
    echo(f"Ours: email ingest and the SLA pass, {where}…")
    results["ingest"] = time_ingest(scratch, data_dir)
    results["sla_pass"] = time_sla_pass(scratch)
    results["ingest"]["where"] = results["sla_pass"]["where"] = where
    echo("Ours: automation rules (a pass of 20 automations, 10 triggers on replies)…")
    from bench.automations import time_automations

    results["automations"] = {**time_automations(scratch), "where": where}
    echo("Ours: the queue filtered by custom fields (three fields on every ticket)…")
    from bench.fields import time_field_filters

    results["field_filters"] = {**time_field_filters(scratch), "where": where}
    if scratch_url != database_url:
        for suffix in ("", "-wal", "-shm"):
            Path(scratch_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    return results


def host_of(url: str) -> str:
    return urlsplit(url).netloc
