"""The stream server: Server-Sent Events from a small asyncio (aiohttp) server.

Waitress gives each running request a thread, so it must not hold streams. This server holds them
all on one event loop; an idle stream is a socket and a queue. It runs in a thread of
``helpdesk serve`` (the embedded default) or alone (``helpdesk live``) beside any number of web
processes on PostgreSQL, woken by ``NOTIFY``. Either way it reads the committed ``live_events`` log,
so every process on every host sends the same events with the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
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
from helpdesk.live.access import Refused, audience_for

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between reads of the log when nothing woke the hub (another SQLite process)
LOOKBACK = 100  # ids re-read below the last seen: a transaction that took an id earlier may commit later
KEEPALIVE = 15.0  # seconds: a comment line keeps proxies and NATs from closing an idle stream
MAX_AGE = 600.0  # seconds: the stream ends and the browser reconnects (Last-Event-ID), re-authorised
QUEUE_SIZE = 2000  # events waiting for one slow client before it is dropped (and replays on reconnect)
REPLAY_LIMIT = 500
HUB_KEY = web.AppKey("hub", object)
FLASK_KEY = web.AppKey("flask", Flask)


@dataclass(eq=False)
class Subscriber:
    audience: feed.Audience
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class Hub:
    """Reads new rows of the log when woken (a local commit, a NOTIFY, or the tick) and hands each
    to the streams whose audience may see it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.subscribers: set[Subscriber] = set()
        self.last_id = 0
        self._seen: deque[int] = deque(maxlen=5 * LOOKBACK)
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unhook: Callable[[], None] | None = None

    def wake(self) -> None:
        """Thread-safe: ask the hub to read the log now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.last_id = await _in_thread(self._in_app, feed.latest_id)
        self._unhook = feed.on_commit(self.wake)
        url = self.app.config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("postgresql"):
            threading.Thread(target=self._listen, args=(url,), name="live-listen", daemon=True).start()
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.app.config.get("LIVE_POLL_SECONDS", TICK))
                self._wake.clear()
                try:
                    rows = await _in_thread(self._in_app, feed.rows_after, self.last_id - LOOKBACK)
                except Exception:  # a database hiccup: the next tick tries again
                    log.exception("reading the live log failed")
                    continue
                self.dispatch(rows)
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        if self._unhook:
            self._unhook()

    def dispatch(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["id"] in self._seen:
                continue
            self._seen.append(row["id"])
            self.last_id = max(self.last_id, row["id"])
            for sub in list(self.subscribers):
                if sub.audience.sees(row):
                    try:
                        sub.queue.put_nowait(feed.message(row, sub.audience))
                    except asyncio.QueueFull:
                        sub.overflowed = True

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
    sub = Subscriber(audience)
    hub.subscribers.add(sub)  # before the replay, so nothing falls between the two
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
        await response.write(b"retry: 2000\n\n")
        sent = 0
        if last.isdigit():
            replayed, too_many = await _in_thread(_replay, app, int(last), audience)
            if too_many:  # asleep for longer than a replay covers: the page reloads instead
                await response.write(_frame({"id": hub.last_id, "kind": "reset"}))
            else:
                for message in replayed:
                    await response.write(_frame(message))
                sent = replayed[-1]["id"] if replayed else int(last)
        else:  # a new stream starts at what is committed now; what came before is on the page
            sent = await _in_thread(hub._in_app, feed.latest_id)
            await response.write(_frame({"id": sent, "kind": "hello"}))
        loop = asyncio.get_running_loop()
        ends = loop.time() + MAX_AGE
        while loop.time() < ends and not sub.overflowed:
            try:
                message = await asyncio.wait_for(sub.queue.get(), KEEPALIVE)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if message["id"] > sent:
                await response.write(_frame(message))
    except (ConnectionResetError, asyncio.CancelledError):
        log.debug("a live stream's browser went away")  # the normal end of a stream
    finally:
        hub.subscribers.discard(sub)
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
