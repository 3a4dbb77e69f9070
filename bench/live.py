"""Live updates under load: N agents' open streams, bursts of ticket changes, on loopback.

Starts `helpdesk serve` (waitress plus the embedded stream server) on a fresh SQLite instance,
signs one agent in, opens N Server-Sent Events streams with that session and reports:

- memory per idle connection: the server's RSS with the streams open, minus before, over N;
- page latency: the agent queue page, one request at a time, without the streams, with the N
  streams open (idle), and without again (A B B A, so a machine that gets busier or quieter during
  the run moves both sides alike); wall-clock p50/p95 and the server's CPU time per request;
- delivery latency: RATE committed ticket changes per second for SECONDS (WRITERS processes, 4,
  one transaction per change, outside the server, as workers, the mail intake or other web
  processes would commit them), the time from each commit to its arrival on each of the N
  streams; p50/p95/max.

The streams are held by CLIENT_PROCESSES processes (2) on raw asyncio sockets that only keep each
chunk with its arrival time (`time.perf_counter`, CLOCK_MONOTONIC: one clock for all processes);
the frames are parsed after the run, so the load generator costs little while it measures.

`make bench-live` runs the issue's size (500 streams, 100 changes per second); on a busy machine
try `python -m bench.live --connections 100 --rate 20 --seconds 5` first.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import click
import httpx
import psutil

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


def _page_times(base: str, cookie: str, count: int, server_pid: int) -> tuple[list[float], float]:
    """The agent queue page, one request at a time: each wall-clock time (ms), and the server's
    CPU time over them all (s), which is steadier than wall time on a machine shared with other work."""
    times = []
    server = psutil.Process(server_pid)
    with httpx.Client(
        base_url=base, headers={"User-Agent": USER_AGENT, "Cookie": cookie}, timeout=120
    ) as client:
        cpu_before = sum(server.cpu_times()[:2])
        for _ in range(count):
            started = time.perf_counter()
            assert client.get("/agent").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        cpu = sum(server.cpu_times()[:2]) - cpu_before
    return times, cpu


def _page_summary(*blocks: tuple[list[float], float]) -> dict:
    times = [t for block, _cpu in blocks for t in block]
    cpu = sum(cpu for _block, cpu in blocks)
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 95), 1),
        "server_cpu_ms_per_request": round(cpu * 1000 / len(times), 1),
    }


class _Stream(asyncio.Protocol):
    """One stream on a raw socket: every chunk kept with its arrival time, parsed after the run, so
    the reader costs one small callback per chunk while it is measured (aiohttp's line-by-line
    reading would make the load generator the bottleneck)."""

    def __init__(self, request: bytes, opened: asyncio.Future) -> None:
        self.request, self.opened = request, opened
        self.chunks: list[tuple[float, bytes]] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.perf_counter(), data))
        if not self.opened.done() and b"event: hello" in b"".join(c for _t, c in self.chunks):
            self.opened.set_result(True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(b"".join(c for _t, c in self.chunks)[:300]))

    def arrivals(self) -> list[tuple[int, float]]:
        """(event id, arrival time) of each change event: the time of the chunk that completed it."""
        ends, body, offset = [], [], 0
        for _when, chunk in self.chunks:
            offset += len(chunk)
            ends.append(offset)
            body.append(chunk)
        joined = b"".join(body)
        found = []
        for match in _FRAME.finditer(joined):
            if match.group(2) in (b"hello", b"presence"):
                continue
            chunk = bisect.bisect_left(ends, match.end())
            found.append((int(match.group(1)), self.chunks[chunk][0]))
        return found


_FRAME = re.compile(rb"id: (\d+)\nevent: ([\w.]+)\ndata: [^\n]*\n\n")


def stream_client(host: str, port: int, cookie: str, count: int, pipe) -> None:
    """A load-generating process: ``count`` streams on one event loop. Says ("ready", n) when all
    are open, waits for "stop", then sends back the arrivals (event ids and times, as arrays)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        request = (
            f"GET /live/stream HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
            f"User-Agent: {USER_AGENT}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        streams = []
        for _ in range(count):
            opened = loop.create_future()
            _transport, stream = await loop.create_connection(
                lambda o=opened: _Stream(request, o), host, port
            )
            streams.append(stream)
            await asyncio.sleep(0.002)
        await asyncio.wait_for(asyncio.gather(*(s.opened for s in streams)), 120)
        pipe.send(("ready", len(streams)))
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        for stream in streams:
            stream.transport.close()
        ids, times = array("q"), array("d")
        for stream in streams:
            for event_id, when in stream.arrivals():
                ids.append(event_id)
                times.append(when)
        pipe.send((ids.tobytes(), times.tobytes()))

    asyncio.run(main())


class Streams:
    """N streams spread over a few client processes (perf_counter is the same clock in every process
    on Linux: CLOCK_MONOTONIC)."""

    def __init__(self, host: str, port: int, cookie: str, count: int, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes, self.children = [], []
        shares = [count // processes + (1 if n < count % processes else 0) for n in range(processes)]
        for share in shares:
            mine, theirs = context.Pipe()
            child = context.Process(
                target=stream_client, args=(host, port, cookie, share, theirs), daemon=True
            )
            child.start()
            self.pipes.append(mine)
            self.children.append(child)

    def wait_open(self, timeout: float) -> int:
        opened = 0
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise click.ClickException(f"only {opened} streams opened within {timeout:.0f} s")
            opened += pipe.recv()[1]
        return opened

    def stop(self) -> list[tuple[int, float]]:
        for pipe in self.pipes:
            pipe.send("stop")
        arrivals = []
        for pipe in self.pipes:
            raw_ids, raw_times = pipe.recv()
            ids, times = array("q"), array("d")
            ids.frombytes(raw_ids)
            times.frombytes(raw_times)
            arrivals.extend(zip(ids, times, strict=True))
        for child in self.children:
            child.join(10)
        return arrivals

    def kill(self) -> None:
        for child in self.children:
            if child.is_alive():
                child.kill()


def writer(instance: Path, ticket_ids: list[int], rate: float, count: int, offset: float, pipe) -> None:
    """A writer process: ``count`` ticket changes (priority flips, one transaction each) at ``rate``
    per second, starting ``offset`` seconds after the time it is sent. Sends back (log id, commit
    time) per change: its tickets are its own, so the newest log row of the ticket is its change."""
    app = _app(instance)
    from sqlalchemy import func, select

    from helpdesk.extensions import db
    from helpdesk.live.models import LiveEvent
    from helpdesk.tickets import service
    from helpdesk.tickets.models import Priority, Ticket
    from helpdesk.transaction import unit_of_work

    committed: list[tuple[int, float]] = []
    with app.app_context():
        pipe.send("ready")
        started = pipe.recv() + offset
        for n in range(count):
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            ticket = db.session.get(Ticket, ticket_ids[n % len(ticket_ids)])
            with unit_of_work():
                flip = Priority.HIGH if ticket.priority != Priority.HIGH else Priority.NORMAL
                service.change_priority(ticket, flip, actor=None)
            when = time.perf_counter()
            newest = select(func.max(LiveEvent.id)).where(LiveEvent.ticket_id == ticket.id)
            committed.append((db.session.scalar(newest), when))
            db.session.rollback()  # end the read; the next change starts from the database
    pipe.send(committed)


def _burst(instance: Path, ticket_ids: list[int], rate: int, seconds: float, writers: int) -> dict:
    """RATE committed changes per second for SECONDS, shared by WRITERS processes (4: as several web
    threads and workers would commit them); returns the commit time of each log id."""
    context = multiprocessing.get_context("spawn")
    pipes, children = [], []
    count = int(rate * seconds)
    for k in range(writers):
        mine, theirs = context.Pipe()
        args = (instance, ticket_ids[k::writers], rate / writers, count // writers, k / rate, theirs)
        child = context.Process(target=writer, args=args, daemon=True)
        child.start()
        pipes.append(mine)
        children.append(child)
    for pipe in pipes:
        assert pipe.recv() == "ready"
    start = time.perf_counter() + 0.2
    for pipe in pipes:
        pipe.send(start)
    committed = {}
    for pipe, child in zip(pipes, children, strict=True):
        committed.update(pipe.recv())
        child.join(10)
    return committed


def _port_pair() -> int:
    """A free port whose next one is free too (the embedded stream server's)."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise click.ClickException("no two free ports in a row")


def _ratio(with_streams: dict, without: dict) -> dict:
    keys = ("p50_ms", "p95_ms", "server_cpu_ms_per_request")
    return {key: round(with_streams[key] / without[key], 3) for key in keys}


@click.command()
@click.option("--connections", default=500, show_default=True)
@click.option("--rate", default=100, show_default=True, help="Ticket changes per second.")
@click.option("--seconds", default=10.0, show_default=True)
@click.option(
    "--page-requests", default=200, show_default=True, help="With the streams; half before, half after."
)
@click.option("--writers", default=4, show_default=True, help="Processes committing the changes.")
@click.option("--client-processes", default=2, show_default=True, help="Processes holding the streams.")
@click.option("--output", type=click.Path(path_type=Path), help="Write the figures as JSON here too.")
def main(
    connections: int,
    rate: int,
    seconds: float,
    page_requests: int,
    writers: int,
    client_processes: int,
    output: Path | None,
) -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        instance = Path(folder) / "instance"
        env, ticket_ids = _prepare(instance)
        port = _port_pair()
        base = f"http://127.0.0.1:{port}"
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
            _page_times(base, cookie, 10, server.pid)  # warm up: templates compiled, caches filled
            # Page latency without / with / without the streams (A B B A: a machine that gets busier
            # or quieter during the run moves both sides alike).
            half = max(1, page_requests // 2)
            before = _page_times(base, cookie, half, server.pid)
            rss_before = psutil.Process(server.pid).memory_info().rss
            streams = Streams("127.0.0.1", port + 1, cookie, connections, client_processes)
            opened = streams.wait_open(180)
            time.sleep(2)
            rss_open = psutil.Process(server.pid).memory_info().rss
            with_streams = _page_times(base, cookie, 2 * half, server.pid)
            streams.stop()
            time.sleep(1)
            after = _page_times(base, cookie, half, server.pid)
            # The burst, on streams opened afresh.
            streams = Streams("127.0.0.1", port + 1, cookie, connections, client_processes)
            streams.wait_open(180)
            time.sleep(2)
            server_cpu = psutil.Process(server.pid).cpu_times()
            committed = _burst(instance, ticket_ids, rate, seconds, writers)
            time.sleep(3)
            server_cpu_after = psutil.Process(server.pid).cpu_times()
            load_during = os.getloadavg()
            arrivals = streams.stop()
            streams = None
        except BaseException:
            log.flush()
            click.echo((Path(folder) / "server.log").read_text()[-3000:], err=True)
            raise
        finally:
            if streams is not None:
                streams.kill()
            server.terminate()
            server.wait(15)
            log.close()
    latencies = [
        (arrived - committed[event_id]) * 1000 for event_id, arrived in arrivals if event_id in committed
    ]
    times = sorted(committed.values())
    cpu_seconds = sum(server_cpu_after[:2]) - sum(server_cpu[:2])
    results = {
        "connections": opened,
        "changes_per_second": rate,
        "changes_per_second_achieved": round((len(times) - 1) / (times[-1] - times[0]), 1),
        "writer_processes": writers,
        "seconds": seconds,
        "client_processes": client_processes,
        "events_expected": len(committed) * opened,
        "events_delivered": len(latencies),
        "delivery_p50_ms": round(_percentile(latencies, 50), 1),
        "delivery_p95_ms": round(_percentile(latencies, 95), 1),
        "delivery_max_ms": round(max(latencies, default=float("nan")), 1),
        "server_cpu_seconds_during_burst": round(cpu_seconds, 2),
        "kb_per_idle_connection": round((rss_open - rss_before) / 1024 / opened, 1),
        "server_rss_mb_with_streams": round(rss_open / 2**20, 1),
        "page_without_streams": _page_summary(before, after),
        "page_with_streams": _page_summary(with_streams),
        "page_blocks": {
            "without_first": _page_summary(before),
            "with": _page_summary(with_streams),
            "without_after": _page_summary(after),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after_burst": [round(x, 2) for x in load_during],
        "cpus": os.cpu_count(),
    }
    results["page_with_over_without"] = _ratio(results["page_with_streams"], results["page_without_streams"])
    click.echo(json.dumps(results, indent=2))
    if output:
        output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
