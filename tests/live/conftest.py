"""A real stream server for the live-update tests: in a thread of this process (the embedded set-up)
or as a separate ``helpdesk live`` process (how several web processes share it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from helpdesk.live.server import start_in_thread
from tests.factories import POSTGRES_URL

USER_AGENT = "live-test"  # the session protection compares the page's and the stream's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EventStream:
    """One open ``text/event-stream`` response, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next_event(self) -> dict:
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return {"id": fields.get("id"), **json.loads(fields["data"])}
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    def events_until(self, kind: str, number: str | None = None, limit: int = 50) -> list[dict]:
        seen = []
        for _ in range(limit):
            event = self.next_event()
            seen.append(event)
            if event["kind"] == kind and (number is None or event.get("number") == number):
                return seen
        raise AssertionError(f"no {kind} among {seen}")


@pytest.fixture
def open_stream():
    """``open_stream(base, cookie, ticket=None, last_id=None)``: a live stream, closed afterwards."""
    opened: list[tuple[httpx.Client, object]] = []

    def open_(base: str, cookie: str, ticket: str | None = None, last_id: int | None = None):
        client = httpx.Client(timeout=httpx.Timeout(10.0, read=20.0))
        headers = {"Cookie": cookie, "User-Agent": USER_AGENT}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        params = {"ticket": ticket} if ticket else {}
        manager = client.stream("GET", f"{base}/live/stream", headers=headers, params=params)
        response = manager.__enter__()
        opened.append((client, manager))
        return response, EventStream(response)

    yield open_
    for client, manager in opened:
        manager.__exit__(None, None, None)
        client.close()


@pytest.fixture
def live_server(app) -> str:
    """The stream server in a thread of this process, as `helpdesk serve` runs it."""
    port = free_port()
    assert start_in_thread(app, "127.0.0.1", port)
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def live_process(app) -> Iterator[str]:
    """The stream server as another process (`helpdesk live`) on the same database."""
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_SECRET_KEY": app.config["SECRET_KEY"],
        "HELPDESK_INSTANCE_PATH": app.config["INSTANCE_PATH"],
    }
    if POSTGRES_URL:  # no reading of the log on a timer: only NOTIFY can wake it within the test
        env["HELPDESK_LIVE_POLL_SECONDS"] = "600"
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "live", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/live/stream", timeout=2)
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


@pytest.fixture
def client(client):
    """The test client with the user agent the streams send too."""
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    return client
