"""Live updates under load: N agents' open streams, bursts of ticket changes, on loopback.

Starts `helpdesk serve` (waitress plus the embedded stream server) on a fresh SQLite instance,
signs one agent in, opens N Server-Sent Events streams with that session, and reports:

- memory per idle connection: the server's RSS with the streams open, minus before, over N;
- delivery latency: for each of RATE ticket changes per second for SECONDS, the time from its
  commit (in this process, a separate writer) to its arrival on each stream; p50/p95/max;
- page latency: the agent queue page's p50/p95 with no streams, then with the N streams open.

`make bench-live` runs the issue's size (500 streams, 100 changes per second); on a busy machine
try `python -m bench.live --connections 100 --rate 20 --seconds 5` first.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import click
import httpx
import psutil
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from bench.ours import _free_port, wait_until_up

USER_AGENT = "bench-live"
PASSWORD = "bench-live-1"


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _prepare(instance: Path) -> tuple[dict, list[int]]:
    """A fresh instance: the schema, one agent, one customer, 50 tickets to change."""
    env = {**os.environ, "HELPDESK_INSTANCE_PATH": str(instance), "HELPDESK_SECRET_KEY": "bench-live"}
    env.pop("HELPDESK_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "helpdesk.cli", "init"], env=env, check=True, capture_output=True)
    app = _app(instance)
    from helpdesk.auth.models import Role, StaffUser
    from helpdesk.auth.passwords import hash_password
    from helpdesk.customers.models import Customer, CustomerEmail
    from helpdesk.extensions import db
    from helpdesk.tickets import service
    from helpdesk.transaction import unit_of_work

    with app.app_context(), unit_of_work():
        agent = StaffUser(email="agent@bench.test", name="Bench", role=Role.AGENT)
        agent.password_hash = hash_password(PASSWORD)
        customer = Customer(name="Bench customer")
        customer.emails.append(CustomerEmail(email="customer@bench.test", is_primary=True))
        db.session.add_all([agent, customer])
        db.session.flush()
        tickets = [
            service.open_ticket(customer=customer, subject=f"Bench {n}", body="Changed again and again")
            for n in range(50)
        ]
        db.session.flush()
        ids = [t.id for t in tickets]
    return env, ids


def _app(instance: Path):
    from helpdesk import create_app

    return create_app(
        {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'helpdesk.db'}"}
    )


def _sign_in(base: str) -> str:
    with httpx.Client(base_url=base, headers={"User-Agent": USER_AGENT}, timeout=120) as client:
        page = client.get("/staff/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post(
            "/staff/login", data={"csrf_token": token, "email": "agent@bench.test", "password": PASSWORD}
        )
        assert answer.status_code in (302, 303), answer.text[:300]
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def _page_latency(base: str, cookie: str, count: int) -> dict:
    times = []
    with httpx.Client(
        base_url=base, headers={"User-Agent": USER_AGENT, "Cookie": cookie}, timeout=120
    ) as client:
        for _ in range(count):
            started = time.perf_counter()
            assert client.get("/agent").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(_percentile(times, 95), 1)}


class Streams:
    """N streams on one event loop in a thread; arrival times per event id."""

    def __init__(self, url: str, cookie: str, count: int) -> None:
        self.url, self.cookie, self.count = url, cookie, count
        self.arrivals: list[tuple[int, float]] = []
        self.connected = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = None

    def start(self) -> None:
        threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True).start()

    async def _one(self, session: ClientSession) -> None:
        headers = {"Cookie": self.cookie, "User-Agent": USER_AGENT}
        async with session.get(self.url, headers=headers) as response:
            assert response.status == 200, await response.text()
            self.connected += 1
            if self.connected == self.count:
                self.ready.set()
            event_id = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("event: ") and line[7:] not in ("hello", "presence"):
                    self.arrivals.append((event_id, time.perf_counter()))

    async def _main(self) -> None:
        self.stop = asyncio.Event()
        connector = TCPConnector(limit=0)
        async with ClientSession(connector=connector, timeout=ClientTimeout(total=None)) as session:
            tasks = []
            for _ in range(self.count):
                tasks.append(asyncio.create_task(self._one(session)))
                await asyncio.sleep(0.002)
            await self.stop.wait()
            for task in tasks:
                task.cancel()

    def close(self) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)


def _burst(instance: Path, ticket_ids: list[int], rate: int, seconds: float) -> tuple[int, list[float]]:
    """RATE committed ticket changes per second (priority flips, one transaction each); returns the
    log id before the burst and each commit's time, in id order."""
    app = _app(instance)
    from helpdesk.extensions import db
    from helpdesk.live.feed import latest_id
    from helpdesk.tickets import service
    from helpdesk.tickets.models import Priority, Ticket
    from helpdesk.transaction import unit_of_work

    committed: list[float] = []
    with app.app_context():
        start_id = latest_id()
        interval, started = 1.0 / rate, time.perf_counter()
        for n in range(int(rate * seconds)):
            due = started + n * interval
            time.sleep(max(0.0, due - time.perf_counter()))
            ticket = db.session.get(Ticket, ticket_ids[n % len(ticket_ids)])
            with unit_of_work():
                flip = Priority.HIGH if ticket.priority != Priority.HIGH else Priority.NORMAL
                service.change_priority(ticket, flip, actor=None)
            committed.append(time.perf_counter())
    return start_id, committed


@click.command()
@click.option("--connections", default=500, show_default=True)
@click.option("--rate", default=100, show_default=True, help="Ticket changes per second.")
@click.option("--seconds", default=10.0, show_default=True)
@click.option("--page-requests", default=40, show_default=True)
@click.option("--output", type=click.Path(path_type=Path), help="Write the figures as JSON here too.")
def main(connections: int, rate: int, seconds: float, page_requests: int, output: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        instance = Path(folder) / "instance"
        env, ticket_ids = _prepare(instance)
        port = _free_port()
        base, stream_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}/live/stream"
        log = (Path(folder) / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.cli", "serve", "--no-worker", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )
        streams = None
        try:
            wait_until_up(base, server)
            cookie = _sign_in(base)
            page_alone = _page_latency(base, cookie, page_requests)
            rss_before = psutil.Process(server.pid).memory_info().rss
            streams = Streams(stream_url, cookie, connections)
            streams.start()
            if not streams.ready.wait(120):
                raise click.ClickException(f"only {streams.connected} of {connections} streams opened")
            time.sleep(2)
            rss_open = psutil.Process(server.pid).memory_info().rss
            page_with = _page_latency(base, cookie, page_requests)
            start_id, committed = _burst(instance, ticket_ids, rate, seconds)
            time.sleep(3)
            latencies = [
                (arrived - committed[event_id - start_id - 1]) * 1000
                for event_id, arrived in list(streams.arrivals)
                if 0 < event_id - start_id <= len(committed)
            ]
            expected = len(committed) * connections
            results = {
                "connections": connections,
                "changes_per_second": rate,
                "seconds": seconds,
                "events_expected": expected,
                "events_delivered": len(latencies),
                "delivery_p50_ms": round(_percentile(latencies, 50), 1),
                "delivery_p95_ms": round(_percentile(latencies, 95), 1),
                "delivery_max_ms": round(max(latencies, default=float("nan")), 1),
                "kb_per_idle_connection": round((rss_open - rss_before) / 1024 / connections, 1),
                "server_rss_mb_with_streams": round(rss_open / 2**20, 1),
                "page_without_streams": page_alone,
                "page_with_streams": page_with,
            }
        finally:
            if streams is not None:
                streams.close()
            server.terminate()
            server.wait(15)
            log.close()
    click.echo(json.dumps(results, indent=2))
    if output:
        output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
