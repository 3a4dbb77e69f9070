"""The peer: django-helpdesk (latest from PyPI) in its own venv under bench/peers/, loaded with the
same dataset through its own models and timed in the same run, in a subprocess with its python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy import select

from bench.generate import BIG_CUSTOMER_EMAIL, DATA_DIR, bench_app
from bench.measure import PeakMemory
from bench.ours import _free_port, wait_until_up

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
VENV = PEERS / "venv"
PROJECT = PEERS / "project"
SCRIPTS = HERE / "peer_django"
PACKAGES = ["django-helpdesk", "gunicorn", "requests"]
CUSTOMER_USER_ID = 1_000_000  # the big customer's Django account (staff keep our ids)


def peer_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(echo: Callable = click.echo) -> str:
    """Create the venv and install django-helpdesk once; returns the installed version."""
    marker = VENV / ".installed"
    if not marker.exists():
        echo("Peer: creating bench/peers/venv and installing django-helpdesk from PyPI…")
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        with (PEERS / "pip.log").open("w") as log:
            subprocess.run(
                [str(peer_python()), "-m", "pip", "install", "-q", *PACKAGES],
                check=True,
                stdout=log,
                stderr=log,
            )
        marker.touch()
    version = subprocess.run(
        [str(peer_python()), "-c", "import importlib.metadata as m; print(m.version('django-helpdesk'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return version


def export_dataset(database_url: str, target: Path) -> dict:
    """Our dataset as JSONL records the peer loader understands (streamed, never all in memory)."""
    from helpdesk.auth.models import Role, StaffUser
    from helpdesk.customers.models import CustomerEmail
    from helpdesk.extensions import db
    from helpdesk.kb.models import Article, ArticleStatus, Category
    from helpdesk.tickets.models import Message, MessageKind, Queue, Ticket

    app = bench_app(database_url)
    big_ticket = None
    with app.app_context(), target.open("w", encoding="utf-8") as out:

        def write(record: dict) -> None:
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

        def stream(query):
            return db.session.execute(query.execution_options(yield_per=10_000))

        for s in db.session.scalars(select(StaffUser)):
            write({"t": "staff", "id": s.id, "email": s.email, "name": s.name, "admin": s.role == Role.ADMIN})
        write({"t": "customer_user", "id": CUSTOMER_USER_ID, "email": BIG_CUSTOMER_EMAIL})
        for q in db.session.scalars(select(Queue)):
            write({"t": "queue", "id": q.id, "slug": q.slug, "title": q.name_en, "email": q.email_address})
        for c in db.session.scalars(select(Category)):
            write(
                {"t": "kbcat", "id": c.id, "slug": c.slug, "name": c.name_en, "description": c.description_en}
            )
        for a in stream(
            select(
                Article.id,
                Article.category_id,
                Article.title,
                Article.body_md,
                Article.status,
                Article.helpful_yes,
                Article.helpful_no,
                Article.updated_at,
            )
        ):
            write(
                {
                    "t": "kbitem",
                    "id": a.id,
                    "category": a.category_id,
                    "title": a.title,
                    "answer": a.body_md,
                    "enabled": a.status == ArticleStatus.PUBLISHED,
                    "votes": a.helpful_yes + a.helpful_no,
                    "recommendations": a.helpful_yes,
                    "updated": a.updated_at.isoformat(),
                }
            )
        first_body = (
            select(Message.body_text)
            .where(Message.ticket_id == Ticket.id)
            .order_by(Message.id)
            .limit(1)
            .scalar_subquery()
        )
        tickets = (
            select(
                Ticket.id,
                Ticket.subject,
                Ticket.queue_id,
                Ticket.created_at,
                Ticket.updated_at,
                Ticket.assignee_id,
                Ticket.status,
                Ticket.priority,
                Ticket.customer_id,
                CustomerEmail.email,
                first_body.label("body"),
            )
            .join(CustomerEmail, (CustomerEmail.customer_id == Ticket.customer_id) & CustomerEmail.is_primary)
            .order_by(Ticket.id)
        )
        for t in stream(tickets):
            write(
                {
                    "t": "ticket",
                    "id": t.id,
                    "title": t.subject,
                    "queue": t.queue_id,
                    "created": t.created_at.isoformat(),
                    "modified": t.updated_at.isoformat(),
                    "email": t.email,
                    "assignee": t.assignee_id,
                    "status": t.status.value,
                    "priority": t.priority.value,
                    "description": t.body or "",
                }
            )
            if t.email == BIG_CUSTOMER_EMAIL:
                big_ticket = t.id  # ids ascend with creation: the last one is the latest
        for m in stream(
            select(
                Message.id,
                Message.ticket_id,
                Message.created_at,
                Message.body_text,
                Message.kind,
                Message.author_staff_id,
            ).order_by(Message.id)
        ):
            write(
                {
                    "t": "followup",
                    "id": m.id,
                    "ticket": m.ticket_id,
                    "date": m.created_at.isoformat(),
                    "comment": m.body_text,
                    "public": m.kind == MessageKind.REPLY,
                    "user": m.author_staff_id,
                    "title": "Comment" if m.author_staff_id else "E-Mail Received",
                }
            )
        db.session.remove()
        db.engine.dispose()
    return {"big_ticket": big_ticket}


def _run_peer(args: list[str], env: dict | None = None) -> str:
    result = subprocess.run(
        [str(peer_python()), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise click.ClickException(f"peer step {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def ensure_loaded(database_url: str, dataset_stamp: dict, echo: Callable = click.echo) -> dict:
    """Project, export and load once per generated dataset (a stamp in bench/peers/)."""
    subprocess.run([str(peer_python()), str(SCRIPTS / "make_project.py"), str(PROJECT)], check=True)
    stamp_file = PEERS / "loaded.json"
    key = {"generated_at": dataset_stamp.get("generated_at"), "scale": dataset_stamp.get("scale")}
    if stamp_file.exists() and (PROJECT / "peer.db").exists():
        stamp = json.loads(stamp_file.read_text())
        if stamp.get("key") == key:
            return stamp
    for suffix in ("", "-wal", "-shm"):
        (PROJECT / f"peer.db{suffix}").unlink(missing_ok=True)
    echo("Peer: exporting our dataset to JSONL…")
    dataset = PEERS / "dataset.jsonl"
    exported = export_dataset(database_url, dataset)
    echo("Peer: loading it into django-helpdesk (bulk_create)…")
    counts = json.loads(_run_peer([str(SCRIPTS / "load.py"), str(dataset)]))
    dataset.unlink()
    stamp = {"key": key, "counts": counts, **exported}
    stamp_file.write_text(json.dumps(stamp, indent=2))
    return stamp


def run_peer(
    database_url: str,
    dataset_stamp: dict,
    *,
    count: int,
    http: bool,
    data_dir: Path = DATA_DIR,
    echo: Callable = click.echo,
) -> dict:
    version = ensure_venv(echo)
    loaded = ensure_loaded(database_url, dataset_stamp, echo)
    big, customer = str(loaded["big_ticket"]), BIG_CUSTOMER_EMAIL
    results: dict = {"version": version, "counts": loaded["counts"]}
    echo(f"Peer django-helpdesk {version}, in-process ({count} requests per operation)…")
    results["inprocess"] = json.loads(
        _run_peer([str(SCRIPTS / "timing.py"), "inprocess", str(count), big, customer])
    )
    if http:
        echo("Peer over HTTP with gunicorn (2 workers)…")
        results["gunicorn"] = _time_over_http(count, big, customer)
    echo("Peer: email processing (local mailbox) on a copy of its database…")
    scratch = PEERS / "scratch.db"
    shutil.copy(PROJECT / "peer.db", scratch)
    try:
        results["ingest"] = json.loads(
            _run_peer(
                [str(SCRIPTS / "timing.py"), "email", str(data_dir / "mail")], env={"PEER_DB": str(scratch)}
            )
        )
    finally:
        scratch.unlink(missing_ok=True)
    return results


def _time_over_http(count: int, big: str, customer: str) -> dict:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = VENV / "bin" / "gunicorn"
    log = (PEERS / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "peerproj.wsgi",
        ],
        cwd=PROJECT,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_up(base, process, "/login/")
        with PeakMemory(process.pid) as memory:
            result = json.loads(
                _run_peer([str(SCRIPTS / "timing.py"), "http", str(count), big, customer, base])
            )
        result["peak_rss_mb"] = memory.peak_mb
        return result
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
