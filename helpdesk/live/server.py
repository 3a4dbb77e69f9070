"""The stream server: Server-Sent Events from a small asyncio (aiohttp) server.

Waitress gives each running request a thread, so it must not hold streams. This server holds them
all on one event loop; an idle stream is a socket and a queue. It runs in a thread of
``helpdesk serve`` (the embedded default) or alone (``helpdesk live``) beside any number of web
processes on PostgreSQL, woken by ``NOTIFY``. Either way it reads the committed ``live_events`` log,
so every process on every host sends the same events with the same ids.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from flask import Flask
from flask_login import current_user
from sqlalchemy.engine import make_url

from helpdesk.live import feed
from helpdesk.live.access import Refused, audience_for, inactive_viewers

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between reads of the log when nothing woke the hub
WATCH = 0.05  # SQLite: seconds between looks at the database files for another process's commit
BATCH = 0.05  # seconds at least between two reads: a burst becomes one read and one write per stream
LOOKBACK = 100  # PostgreSQL: ids re-read below the last seen (an earlier id may commit later)
KEEPALIVE = 15.0  # seconds: a comment line keeps proxies and NATs from closing an idle stream
MAX_AGE = 600.0  # seconds: the stream ends and the browser reconnects (Last-Event-ID), re-authorised
RECHECK = 60.0  # seconds between checks that the streams' accounts are still active
MAX_PENDING = 1 << 20  # bytes waiting for one slow client before it is dropped (it replays on reconnect)
REPLAY_LIMIT = 500
HUB_KEY = web.AppKey("hub", object)
FLASK_KEY = web.AppKey("flask", Flask)

Frames = list[tuple[int, bytes]]  # (event id, encoded frame), in id order


@dataclass(eq=False)
class Subscriber:
    """One open stream: what it may see, and the bytes waiting for its writer.

    The hub appends; the stream's own task writes whatever has accumulated in one go. Until the
    stream has sent its replay (or its first ``hello``), frames are held by id instead, so that the
    ones the replay already covered are not sent twice."""

    audience: feed.Audience
    ends: float  # the event loop's time when the stream ends (MAX_AGE)
    floor: int = 0  # the last id sent by the replay or the hello: nothing at or below it again
    pending: list[bytes] = field(default_factory=list)
    size: int = 0
    held: Frames | None = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    overflowed: bool = False
    last_write: float = 0.0

    def push(self, blob: bytes, frames: Frames) -> None:
        """Queue ``blob`` (the concatenation of ``frames``) for this stream."""
        if self.held is not None:
            self.held.extend(frames)
            return
        if frames and frames[0][0] <= self.floor:  # read by the hub after this stream's hello
            blob = b"".join(frame for event_id, frame in frames if event_id > self.floor)
            if not blob:
                return
        self.pending.append(blob)
        self.size += len(blob)
        if self.size > MAX_PENDING:
            self.overflowed = True
            self.close()
        self.ready.set()

    def start(self, floor: int) -> bytes:
        """The replay or hello is written up to ``floor``: the held frames above it, and from now
        on, pushes go straight to ``pending``."""
        self.floor = floor
        held, self.held = self.held or [], None
        return b"".join(frame for event_id, frame in held if event_id > floor)

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        self.size = 0
        self.ready.clear()
        return data

    def close(self) -> None:
        self.closed = True
        self.ready.set()


class Hub:
    """Reads new rows of the log when woken (a local commit, a NOTIFY, a SQLite file that changed,
    or the tick) — one query per wake for all streams — and hands each row to the streams that may
    see it. A row is encoded once per kind of reader (staff, customer); the staff streams that follow
    every queue share one blob per read."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.everything: set[Subscriber] = set()  # staff following every queue
        self.by_ticket: dict[int, set[Subscriber]] = {}  # one ticket's page (staff or customer)
        self.last_id = 0
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unhook: Callable[[], None] | None = None

    @property
    def subscribers(self) -> list[Subscriber]:
        return [*self.everything, *(sub for subs in self.by_ticket.values() for sub in subs)]

    def add(self, sub: Subscriber) -> None:
        ticket_id = sub.audience.ticket_id
        if ticket_id is None:
            self.everything.add(sub)
        else:
            self.by_ticket.setdefault(ticket_id, set()).add(sub)

    def remove(self, sub: Subscriber) -> None:
        ticket_id = sub.audience.ticket_id
        if ticket_id is None:
            self.everything.discard(sub)
            return
        subs = self.by_ticket.get(ticket_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.by_ticket[ticket_id]

    def wake(self) -> None:
        """Thread-safe: ask the hub to read the log now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        config = self.app.config
        url = config["SQLALCHEMY_DATABASE_URI"]
        tick = float(config.get("LIVE_POLL_SECONDS", TICK))
        batch = float(config.get("LIVE_BATCH_SECONDS", BATCH))
        # On SQLite ids are taken and committed one writer at a time, in order: nothing to re-read.
        lookback = LOOKBACK if url.startswith("postgresql") else 0
        files = _sqlite_files(url)
        self.last_id = await _in_thread(self._in_app, feed.latest_id)
        self._unhook = feed.on_commit(self.wake)
        if url.startswith("postgresql"):
            threading.Thread(target=self._listen, args=(url,), name="live-listen", daemon=True).start()
        housekeeping = asyncio.create_task(self._housekeeping())
        signature, last_read = _signature(files), loop.time()
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), WATCH if files else tick)
                except TimeoutError:
                    # SQLite and another process: its commit changes the database files. A look
                    # at them costs two stat calls; the log is read only when they changed.
                    if files and _signature(files) == signature and loop.time() - last_read < tick:
                        continue
                self._wake.clear()
                signature, last_read = _signature(files), loop.time()
                try:
                    rows = await _in_thread(self._in_app, feed.rows_after, self.last_id - lookback)
                except RuntimeError:  # the interpreter is ending: no more threads to read in
                    return
                except Exception:  # a database hiccup: the next tick tries again
                    log.exception("reading the live log failed")
                    continue
                self.dispatch(rows)
                await asyncio.sleep(batch)
        finally:
            housekeeping.cancel()
            self.close()

    def close(self) -> None:
        self._stop.set()
        if self._unhook:
            self._unhook()

    def dispatch(self, rows: list[dict[str, Any]]) -> None:
        fresh = [row for row in rows if row["id"] not in self._seen]
        if not fresh:
            return
        for row in fresh:
            self._remember(row["id"])
        self.last_id = max(self.last_id, fresh[-1]["id"])
        staff = [(row["id"], _frame(feed.message(row, _STAFF))) for row in fresh]
        if self.everything:
            blob = b"".join(frame for _id, frame in staff)
            for sub in list(self.everything):
                sub.push(blob, staff)
        if not self.by_ticket:
            return
        public: dict[int, bytes] = {}  # a customer's frame (id, kind, number) is the same for all
        chosen: dict[Subscriber, Frames] = {}
        for row, (event_id, staff_frame) in zip(fresh, staff, strict=True):
            for sub in self.by_ticket.get(row["ticket_id"], ()):
                if not sub.audience.sees(row):
                    continue
                if sub.audience.staff:
                    frame = staff_frame
                else:
                    frame = public.get(event_id) or public.setdefault(
                        event_id, _frame(feed.message(row, sub.audience))
                    )
                chosen.setdefault(sub, []).append((event_id, frame))
        for sub, frames in chosen.items():
            sub.push(b"".join(frame for _id, frame in frames), frames)

    def _remember(self, event_id: int) -> None:
        self._seen.add(event_id)
        self._seen_order.append(event_id)
        if len(self._seen_order) > 5 * LOOKBACK:
            self._seen.discard(self._seen_order.popleft())

    async def _housekeeping(self) -> None:
        """Keepalives for idle streams, the end of streams past MAX_AGE, and every RECHECK seconds
        the close of streams whose account was deactivated (one query for all of them)."""
        loop = asyncio.get_running_loop()
        recheck = float(self.app.config.get("LIVE_RECHECK_SECONDS", RECHECK))
        next_check = loop.time() + recheck
        while True:
            await asyncio.sleep(min(recheck, KEEPALIVE / 3))
            now = loop.time()
            subs = self.subscribers
            for sub in subs:
                if now >= sub.ends:
                    sub.close()
                elif now - sub.last_write >= KEEPALIVE:
                    sub.push(b": keepalive\n\n", [])
            if now >= next_check and subs:
                next_check = now + recheck
                viewers = {sub.audience.viewer for sub in subs}
                try:
                    gone = await _in_thread(self._in_app, inactive_viewers, viewers)
                except Exception:
                    log.exception("re-checking the live streams' accounts failed")
                    continue
                for sub in subs:
                    if sub.audience.viewer in gone:
                        sub.close()

    def _in_app(self, function: Callable, *args: Any) -> Any:
        with self.app.app_context():
            return function(*args)

    def _listen(self, url: str) -> None:
        """PostgreSQL: LISTEN on a connection of its own; each NOTIFY (sent at commit) wakes the hub."""
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {feed.CHANNEL}")
                    self.wake()  # catch up with what was committed while not listening
                    while not self._stop.is_set():
                        for _notice in conn.notifies(timeout=2.0):
                            self.wake()
            except Exception:
                log.exception("LISTEN %s failed; retrying", feed.CHANNEL)
                self._stop.wait(2.0)


_STAFF = feed.Audience(staff=True)


def _sqlite_files(url: str) -> list[str]:
    """A SQLite database's file and its write-ahead log (what another process's commit changes)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return []
    return [parsed.database, f"{parsed.database}-wal"]


def _signature(files: list[str]) -> tuple:
    found = []
    for name in files:
        try:
            stat = os.stat(name)
        except OSError:
            found.append(None)
        else:
            found.append((stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def _in_thread(function: Callable, *args: Any) -> Any:
    """Run blocking work (the database, Flask-Login) in the default executor, in an empty context:
    never in an app context that the caller (``helpdesk live``'s own) may have pushed."""
    fresh = contextvars.Context()
    return asyncio.get_running_loop().run_in_executor(None, fresh.run, function, *args)


# --- the HTTP side ---------------------------------------------------------------------------


def _authorise(app: Flask, request: web.Request, number: str | None) -> feed.Audience:
    """The session's user, read by Flask-Login exactly as a page request would (with the client's
    address and user agent, which its session protection checks)."""
    forwarded = ("Cookie", "User-Agent", "X-Forwarded-For", "Accept-Language")
    headers = {name: request.headers[name] for name in forwarded if name in request.headers}
    environ = {"REMOTE_ADDR": request.remote or ""}
    with app.test_request_context("/live/stream", headers=headers, environ_base=environ):
        return audience_for(current_user, number)


def _replay(app: Flask, after: int, audience: feed.Audience) -> tuple[list[dict[str, Any]], bool]:
    with app.app_context():
        rows = feed.rows_after(after, limit=REPLAY_LIMIT)
    return feed.for_audience(rows, audience), len(rows) == REPLAY_LIMIT


def _cors(request: web.Request) -> dict[str, str] | None:
    """The pages are served from another port of the same host (or a configured origin): allowed
    with credentials. Any other origin is refused."""
    origin = request.headers.get("Origin")
    if not origin:
        return {}
    allowed = request.app[FLASK_KEY].config.get("LIVE_ALLOWED_ORIGINS", ())
    if urlsplit(origin).hostname != request.url.host and origin not in allowed:
        return None
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _frame(message: dict[str, Any]) -> bytes:
    return f"id: {message['id']}\nevent: {message['kind']}\ndata: {json.dumps(message)}\n\n".encode()


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET /live/stream[?ticket=<number>]``: text/event-stream for the signed-in user."""
    cors = _cors(request)
    if cors is None:
        return web.Response(status=403, text="Origin not allowed")
    app, hub = request.app[FLASK_KEY], request.app[HUB_KEY]
    number = request.query.get("ticket") or None
    try:
        audience = await _in_thread(_authorise, app, request, number)
    except Refused as refused:
        return web.Response(status=refused.status, text=refused.message, headers=cors)
    last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id", "")
    loop = asyncio.get_running_loop()
    sub = Subscriber(audience, ends=loop.time() + MAX_AGE)
    hub.add(sub)  # before the replay, so nothing falls between the two (held until it is sent)
    response = web.StreamResponse(
        headers={
            **cors,
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: don't buffer the stream
        }
    )
    try:
        await response.prepare(request)
        opening = b"retry: 2000\n\n"
        if last.isdigit():
            replayed, too_many = await _in_thread(_replay, app, int(last), audience)
            if too_many:  # asleep for longer than a replay covers: the page reloads instead
                floor = hub.last_id
                opening += _frame({"id": floor, "kind": "reset"})
            else:
                opening += b"".join(_frame(message) for message in replayed)
                floor = replayed[-1]["id"] if replayed else int(last)
        else:  # a new stream starts at what is committed now; what came before is on the page
            floor = await _in_thread(hub._in_app, feed.latest_id)
            opening += _frame({"id": floor, "kind": "hello"})
        await response.write(opening + sub.start(floor))
        sub.last_write = loop.time()
        while not sub.closed:
            await sub.ready.wait()
            data = sub.take()
            if sub.overflowed:  # too slow to keep up: it reconnects and replays from the log
                break
            if data:
                await response.write(data)
                sub.last_write = loop.time()
    except (ConnectionResetError, asyncio.CancelledError):
        log.debug("a live stream's browser went away")  # the normal end of a stream
    finally:
        hub.remove(sub)
    return response


def make_live_app(app: Flask) -> web.Application:
    live = web.Application()
    live[FLASK_KEY] = app
    hub = Hub(app)
    live[HUB_KEY] = hub

    async def run_hub(_live: web.Application):
        task = asyncio.create_task(hub.run())
        yield
        task.cancel()
        hub.close()

    live.cleanup_ctx.append(run_hub)
    live.router.add_get("/live/stream", stream)
    return live


def serve_live(app: Flask, host: str, port: int, ready: threading.Event | None = None) -> None:
    """Run the stream server until the process ends (blocking: call it in a thread, or alone)."""

    async def main() -> None:
        runner = web.AppRunner(make_live_app(app), handle_signals=False, access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, host, port, backlog=2048).start()
        log.info("live updates on http://%s:%s/live/stream", host, port)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def start_in_thread(app: Flask, host: str, port: int) -> bool:
    """Start the stream server in a daemon thread; False (pages will poll) if it could not listen."""
    ready = threading.Event()

    def run() -> None:
        try:
            serve_live(app, host, port, ready)
        except OSError as exc:
            log.warning("live updates off (pages will poll): %s", exc)

    threading.Thread(target=run, name="helpdesk-live", daemon=True).start()
    return ready.wait(10)
