"""Browser tests: the real server (`helpdesk serve` with its worker) on a loopback port, an
aiosmtpd sink for its mail, and Debian's Chromium driven by Playwright (never a downloaded browser).

Without Chromium the tests are skipped with a clear reason, unless HELPDESK_E2E_REQUIRED=1 (CI),
which turns the missing browser into a failure.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.auth.oidc_provider import CLIENT_ID as OIDC_CLIENT_ID
from tests.auth.oidc_provider import CLIENT_SECRET as OIDC_CLIENT_SECRET
from tests.smtp_sink import SmtpSink, free_port
from tests.whatsapp.payloads import ACCESS_TOKEN as WA_ACCESS_TOKEN
from tests.whatsapp.payloads import APP_SECRET as WA_APP_SECRET
from tests.whatsapp.payloads import VERIFY_TOKEN as WA_VERIFY_TOKEN

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
PASSWORD = "demo1234"
REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    return os.environ.get("HELPDESK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    reason = None
    try:
        import playwright  # noqa: F401
    except ImportError:
        reason = "the playwright package is not installed (make setup installs it)"
    if reason is None and chromium_path() is None:
        reason = "Chromium is not installed (apt-get install chromium); browser tests skipped"
    if reason is None:
        return
    if os.environ.get("HELPDESK_E2E_REQUIRED") == "1":
        raise pytest.UsageError(f"browser tests are required here but {reason}")
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class LiveServer:
    url: str
    instance: Path
    sink: SmtpSink
    process: subprocess.Popen
    listener_port: int
    listener: subprocess.Popen

    def app(self):
        """An app on the same database, for arranging data and checking results from the test."""
        from helpdesk import create_app

        return create_app(
            {
                "INSTANCE_PATH": str(self.instance),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.instance / 'helpdesk.db'}",
                "TESTING": True,
            }
        )


def _helpdesk(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", *args], env=env, check=True, capture_output=True, **kwargs
    )


@pytest.fixture(scope="session")
def oidc_provider():
    """The local OpenID provider of tests/auth/oidc_provider.py, for the single sign-on journey: it
    signs in whoever ``provider.email`` names at once (no login page of its own)."""
    from tests.auth.oidc_provider import OidcProvider, RunningProvider

    with RunningProvider(OidcProvider()) as running:
        yield running


def _demo_instance(tmp_path_factory, env: dict) -> Path:
    """The demo instance the browser tests start from, built once per run and copied by each
    pytest-xdist worker (building it takes half a minute of a core: the demo's tickets and the
    embedding of its articles). The first worker builds it under a lock; the others wait for it."""
    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent  # the run's own folder, shared by its workers
    built = run / "e2e-demo"
    with (run / "e2e-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built / "helpdesk.db").exists():
            building = run / "e2e-demo-building"
            shutil.rmtree(building, ignore_errors=True)
            env = {**env, "HELPDESK_INSTANCE_PATH": str(building)}
            _helpdesk("init", env=env)
            # 60 tickets keep the tests quick; `make screenshots` asks for the demo's full data.
            tickets = os.environ.get("HELPDESK_E2E_DEMO_TICKETS", "60")
            _helpdesk("demo", "--tickets", tickets, "--seed", "7", env=env)
            building.rename(built)
    return built


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, oidc_provider) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("e2e-instance")
    sink = SmtpSink().start()
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": str(instance),
        "HELPDESK_MAIL_SERVER": "127.0.0.1",
        "HELPDESK_MAIL_PORT": str(sink.port),
        "HELPDESK_WORKER_INTERVAL": "1",
        "HELPDESK_SIGN_IN_RATE_LIMIT": "1000 per minute",  # every journey signs in from 127.0.0.1
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
        # The WhatsApp journey's number names these (tests/whatsapp/payloads.py holds the values).
        "WA_TOKEN": WA_ACCESS_TOKEN,
        "WA_APP_SECRET": WA_APP_SECRET,
        "WA_VERIFY": WA_VERIFY_TOKEN,
        "HELPDESK_2FA_KEY": "3q2-7wXSg3uB5Xb6hX0Yc4kqY2m3Jm8Kc0b8fH3v7nE=",  # Fernet: staff TOTP secrets
        # WebAuthn refuses an IP address as the site's domain: passkey journeys use http://localhost.
        "HELPDESK_WEBAUTHN_RP_ID": "localhost",
        "HELPDESK_WEBAUTHN_ORIGIN": f"http://localhost:{port}",
        # Staff single sign-on with the local provider (the password stays on for the other journeys).
        "HELPDESK_OIDC_ISSUER": oidc_provider.url,
        "HELPDESK_OIDC_CLIENT_ID": OIDC_CLIENT_ID,
        "HELPDESK_OIDC_CLIENT_SECRET": OIDC_CLIENT_SECRET,
    }
    env.pop("HELPDESK_DATABASE_URL", None)
    shutil.copytree(_demo_instance(tmp_path_factory, env), instance, dirs_exist_ok=True)
    log = (instance / "server.log").open("wb")
    # The stream server's own port, reserved like the others. By default it is the page port + 1:
    # Linux gives bind(0) odd ports first and outgoing connections even ones, so that port is the
    # kind a browser's or the database's connection may hold, and if taken, live updates are off
    # for the whole run (every page polls: the likely cause of 7 live journeys failing at once).
    live_port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "helpdesk.cli", "serve", "--port", str(port), "--threads", "4"),
            *("--live-port", str(live_port)),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    listener_port = free_port()
    listener = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "mail", "listen", "--port", str(listener_port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until(lambda: urllib.request.urlopen(url + "/", timeout=1), process, instance)
    _wait_until(
        lambda: socket.create_connection(("127.0.0.1", live_port), timeout=1).close(), process, instance
    )
    _wait_until(
        lambda: socket.create_connection(("127.0.0.1", listener_port), timeout=1).close(), listener, instance
    )
    yield LiveServer(url, instance, sink, process, listener_port, listener)
    for child in (process, listener):
        child.terminate()
        child.wait(timeout=15)
    sink.stop()
    log.close()


def _wait_until(probe, process: subprocess.Popen, instance: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a server did not start; see {instance / 'server.log'}") from None
            time.sleep(0.2)


# How long a page action or an expect() waits: a hang guard, not a timing. expect()'s own default
# (5 s) was half the pages' and too short on a busy CI machine.
WAIT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Pages in fresh browser contexts (own cookies), in the given language and viewport."""
    contexts = []

    def open_page(locale: str = "en", viewport: dict = DESKTOP, javascript: bool = True, **options):
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            viewport=viewport,
            java_script_enabled=javascript,
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, email: str, *, staff: bool) -> None:
    page.goto("/staff/login" if staff else "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in as {email} failed"


def script_arrives_late(page, name: str, seconds: float = 1.0) -> None:
    """The script comes a while after its page, as on a slow network: a button that needs it must
    not take a click before it is there (the passkey buttons once ignored it and the journey hung)."""

    def late(route) -> None:
        time.sleep(seconds)
        route.continue_()

    page.route(f"**/{name}", late)


def use_language(page, locale: str) -> None:
    """Switch the interface language with the header button, as a person would (it is saved on
    the account, which wins over the browser's preference)."""
    if page.locator("html").get_attribute("lang") != locale:
        page.click(f"form[action$='/language'] button[lang={locale}]")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")


def wait_for_mail(sink: SmtpSink, matches, timeout: float = 20):
    """The first message the server sent that ``matches(message)``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(sink.messages):
            if matches(message):
                return message
        time.sleep(0.2)
    seen = [(str(m["To"]), str(m["Subject"]), str(m["In-Reply-To"])) for m in sink.messages]
    raise AssertionError(f"no such mail; the sink has {seen}")


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain", "html")).get_content()


@pytest.fixture
def walk_customer(live_server) -> str:
    """A demo customer with cases, to walk the case page; and a webhook endpoint (the demo has
    none) so its edit page is walked too."""
    from helpdesk.api.models import WebhookEndpoint
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    with live_server.app().app_context():
        if not db.session.query(WebhookEndpoint).count():
            db.session.add(
                WebhookEndpoint(url="https://hooks.example.test/in", secret="s", events=["ticket.created"])
            )
            db.session.commit()
        return db.session.query(Ticket).order_by(Ticket.id).first().customer.email
