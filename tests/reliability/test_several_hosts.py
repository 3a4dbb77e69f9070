"""Two web nodes and two workers that share only PostgreSQL and Redis, behind nginx (round robin).

Each node has its own empty instance folder (as on separate machines) and ``HELPDESK_SEVERAL_HOSTS``
on. A customer opens cases with attachments through node A; an agent reads, searches and downloads
them through node B; both workers ingest a backlog of mail; the ticket opened on A is found by
search on both nodes within a second; then one web node and one worker are killed (SIGKILL) in
the middle of the backlog. Nothing is lost, nothing is done twice, and the load balancer keeps
answering. Nothing was written to any node's folder.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text, update

from helpdesk.app import configure_engine
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.ledger import store_raw
from helpdesk.mail.models import InboundMessage, InboundStatus, OutboundEmail, OutboxStatus
from helpdesk.tickets.models import Message, Ticket
from tests.factories import PASSWORD, POSTGRES_URL, REDIS_URL, make_customer, make_staff
from tests.mail.mailfactory import make_email
from tests.reliability.test_scale_out import start, stop
from tests.smtp_sink import SmtpSink, free_port

BACKLOG = 120
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="the hosts share PostgreSQL (HELPDESK_TEST_DATABASE_URL)"),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt install nginx-light)"),
]

NGINX_CONF = """
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream helpdesk {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=30s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=30s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 30m;
        location / {{
            proxy_pass http://helpdesk;
            proxy_set_header Host $http_host;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout http_502;
        }}
    }}
}}
"""


def _node_env(instance: Path, redis_prefix: str, sink_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    instance.mkdir()
    env.update(
        HELPDESK_SEVERAL_HOSTS="1",
        HELPDESK_INSTANCE_PATH=str(instance),
        HELPDESK_DATABASE_URL=POSTGRES_URL,
        HELPDESK_SECRET_KEY="several-hosts-secret",
        HELPDESK_REDIS_URL=REDIS_URL,
        HELPDESK_REDIS_KEY_PREFIX=redis_prefix,
        HELPDESK_RATELIMIT_KEY_PREFIX=redis_prefix,
        HELPDESK_MAIL_SERVER="127.0.0.1",
        HELPDESK_MAIL_PORT=str(sink_port),
        HELPDESK_WORKER_INTERVAL="1",
        HELPDESK_VIEW_COUNTS_MAX_AGE="60",
    )
    return env


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not an assertion
    while True:
        assert process.poll() is None, f"{url}: the process exited"
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.2)


def _signed_in(base: str, path: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}{path}", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    answer = browser.post(
        f"{base}{path}",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text[-2000:]
    return browser


def _open_case(browser: requests.Session, base: str, subject: str, attachment: bytes) -> str:
    form = browser.get(f"{base}/portal/cases/new?type=other", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)[1]
    answer = browser.post(
        f"{base}/portal/cases/new?type=other",
        data={"subject": subject, "body": f"{subject}: the photo is attached.", "csrf_token": token},
        files={"files": ("photo.jpg", attachment, "image/jpeg")},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text[-2000:]
    return answer.headers["Location"].rsplit("/", 1)[-1]


def _store_backlog() -> list[str]:
    ids = [f"<hosts-{i}@customers.example>" for i in range(BACKLOG)]
    for i, message_id in enumerate(ids):
        raw = make_email(
            sender=f"Customer {i} <buyer{i}@customers.example>",
            subject=f"Parcel {i} is late" if i % 2 else f"الطرد {i} متأخر",
            message_id=message_id,
        )
        store_raw(raw, source="pipe")
    db.session.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    return ids


def _found_within(browsers: list[tuple[requests.Session, str]], word: str, number: str) -> float:
    """Seconds until every node's search shows ``number`` for ``word`` (a hang guard at 30 s)."""
    began = time.monotonic()
    waiting = list(browsers)
    while waiting:
        browser, base = waiting[0]
        if number in browser.get(f"{base}/agent/search", params={"q": word}, timeout=10).text:
            waiting.pop(0)
            continue
        assert time.monotonic() - began < 30, f"{number} not found by {base}"
        time.sleep(0.05)
    return time.monotonic() - began


def _pending(engine) -> dict[str, int]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM inbound_messages WHERE status <> 'processed') AS inbound,"
                " (SELECT count(*) FROM outbound_emails WHERE status <> 'sent') AS outbox"
            )
        ).one()
    return dict(row._mapping)


def test_two_nodes_and_two_workers_on_separate_folders_lose_nothing(app, tmp_path, redis_prefix):
    customer = make_customer("shopper@customers.example")
    agent = make_staff(email="agent@staff.test")
    assert customer.id and agent.id
    sink = SmtpSink().start()
    ports = {"a": free_port(), "b": free_port(), "lb": free_port()}
    envs = {name: _node_env(tmp_path / name, redis_prefix, sink.port) for name in ("a", "b", "w1", "w2")}
    serve = ["serve", "--no-worker", "--threads", "4", "--live-port", "0", "--port"]
    processes = {
        "a": start("a", [*serve, str(ports["a"])], envs["a"], tmp_path),
        "b": start("b", [*serve, str(ports["b"])], envs["b"], tmp_path),
    }
    folder = tmp_path / "nginx"
    folder.mkdir()
    (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, port=ports["lb"], **ports))
    processes["nginx"] = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.log").open("w"),
    )
    node = {name: f"http://127.0.0.1:{ports[name]}" for name in ("a", "b", "lb")}
    engine = configure_engine(create_engine(POSTGRES_URL))
    balanced: Counter = Counter()
    try:
        for name in ("a", "b"):
            _wait_for(f"{node[name]}/login", processes[name])
        _wait_for(f"{node['lb']}/login", processes["nginx"])

        # A customer opens cases with attachments on node A; the agent signs in on node B, and the
        # same session (the same secret key, server-side session rows) works on A too.
        shopper = _signed_in(node["a"], "/login", "shopper@customers.example")
        photos = {f"Cracked teapot {n}": secrets.token_bytes(300_000 + n) for n in range(3)}
        numbers = {subject: _open_case(shopper, node["a"], subject, data) for subject, data in photos.items()}
        staff = _signed_in(node["b"], "/staff/login", "agent@staff.test")

        # Found by search on both nodes, within a second of its commit.
        word = f"zqx{secrets.token_hex(3)}"
        fresh = _open_case(shopper, node["a"], f"Teapot lid {word}", b"lid")
        seconds = _found_within([(staff, node["a"]), (staff, node["b"])], word, fresh)
        assert seconds <= 1.0, f"found on both nodes after {seconds:.2f} s"

        for subject, number in numbers.items():  # read and downloaded on node B
            page = staff.get(f"{node['b']}/agent/tickets/{number}", timeout=10)
            assert page.status_code == 200 and subject in page.text
            link = re.search(r'href="(/agent/attachments/\d+)"', page.text)[1]
            assert staff.get(f"{node['b']}{link}", timeout=30).content == photos[subject]

        # Mail: a backlog in the ledger, taken by both workers; one of them and node A are killed
        # halfway, while the agent keeps working through the load balancer.
        ids = _store_backlog()
        processes["w1"] = start("w1", ["worker"], envs["w1"], tmp_path)
        processes["w2"] = start("w2", ["worker"], envs["w2"], tmp_path)
        killed = False
        deadline = time.monotonic() + 300  # a hang guard, not an assertion
        while True:
            answer = staff.get(f"{node['lb']}/agent", timeout=10)
            balanced[answer.status_code] += 1
            state = _pending(engine)
            if not killed and state["inbound"] <= BACKLOG // 2:
                processes["a"].send_signal(signal.SIGKILL)
                processes["w1"].send_signal(signal.SIGKILL)
                killed = True
            if killed and state == {"inbound": 0, "outbox": 0}:
                break
            assert time.monotonic() < deadline, f"not done: {state}"
            time.sleep(0.1)
        assert balanced[200] >= 3 and set(balanced) == {200}, balanced
        print(f"\nfound on both nodes after {seconds:.2f} s; answers through nginx: {dict(balanced)}")
    finally:
        stop(processes)
        sink.stop()
        engine.dispose()

    # Every message once on a ticket; every acknowledgement sent, and delivered once.
    db.session.expire_all()
    statuses = Counter(db.session.scalars(select(InboundMessage.status)))
    assert statuses == Counter({InboundStatus.PROCESSED: BACKLOG})
    on_tickets = Counter(
        db.session.scalars(select(Message.email_message_id).where(Message.email_message_id.is_not(None)))
    )
    assert on_tickets == Counter(ids)
    assert db.session.query(Ticket).count() == BACKLOG + len(photos) + 1
    outbox = db.session.execute(select(OutboundEmail.message_id, OutboundEmail.status)).all()
    assert {status for _id, status in outbox} == {OutboxStatus.SENT}
    delivered = Counter(str(m["Message-ID"]) for m in sink.messages)
    assert delivered == Counter(message_id for message_id, _s in outbox)

    # Nothing of the data is in any node's own folder: no attachments, no index, no secret key.
    for name in ("a", "b", "w1", "w2"):
        kept = [p.relative_to(tmp_path / name) for p in (tmp_path / name).rglob("*") if p.is_file()]
        assert kept == [], f"node {name} kept {kept}"
