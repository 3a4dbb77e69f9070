"""Lighthouse accessibility and best-practices scores of the main pages, from our real server in
Debian's Chromium (CHROME_PATH), signed in as a customer and an agent as the pages need.

    make lighthouse                     # or: .venv/bin/python bench/lighthouse.py [--url URL] [--min 95]

Without --url it starts `helpdesk serve` on a fresh instance with the demo data. Lighthouse comes
from npm (bench/lighthouse/package.json, installed on first use, not by `make setup`). Prints one
line per page and language; exits 1 when a score is below --min.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("accessibility", "best-practices")
PASSWORD = "demo1234"
# Sign-ins are bound to the browser (Flask-Login "strong" session protection hashes the user
# agent): the cookies we get with httpx work in Lighthouse's Chromium only under the same one.
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36 helpdesk-lighthouse"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(instance: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_INSTANCE_PATH": str(instance),
        "HELPDESK_SIGN_IN_RATE_LIMIT": "1000 per minute",
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("HELPDESK_DATABASE_URL", None)
    cli = [sys.executable, "-m", "helpdesk.cli"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "demo", "--tickets", "300", "--seed", "7"], env=env, check=True, capture_output=True
    )
    log = (instance / "server.log").open("wb")
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--no-worker"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(url + "/", timeout=1)
            return server, url
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not start; see {instance / 'server.log'}")


def signed_in(url: str, email: str, *, staff: bool, language: str) -> httpx.Client:
    client = httpx.Client(
        base_url=url, follow_redirects=True, headers={"Accept-Language": language, "User-Agent": USER_AGENT}
    )
    form = client.get("/staff/login" if staff else "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'name="csrf_token" value="([^"]+)"', form
    )
    response = client.post(
        "/staff/login" if staff else "/login",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
    )
    if "/login" in str(response.url):
        raise SystemExit(f"sign-in as {email} failed")
    page = client.get("/").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    if f'lang="{language}"' not in page:
        client.post("/language", data={"csrf_token": token, "language": language, "next": "/"})
    return client


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def lighthouse(url: str, cookies: str, language: str, chrome: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as out:
        report = Path(out) / "report.json"
        subprocess.run(
            [
                "node",
                str(LIGHTHOUSE),
                url,
                f"--only-categories={','.join(CATEGORIES)}",
                "--output=json",
                f"--output-path={report}",
                "--quiet",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                f"--extra-headers={json.dumps({'Cookie': cookies, 'Accept-Language': language})}",
                f"--locale={language}",
                f"--emulatedUserAgent={USER_AGENT}",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": chrome},
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    final = data.get("finalDisplayedUrl") or data.get("finalUrl", "")
    if final.split("?")[0] != url.split("?")[0]:
        raise SystemExit(f"{url} ended at {final}: not signed in?")
    return {c: round(data["categories"][c]["score"] * 100) for c in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running helpdesk with the demo data (default: start one)")
    parser.add_argument("--min", type=int, default=95, help="the lowest score that passes")
    parser.add_argument("--languages", default="ar,en")
    args = parser.parse_args()
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chrome:
        raise SystemExit("no Chromium: apt-get install chromium, or set CHROME_PATH")
    if not LIGHTHOUSE.exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
            cwd=HERE / "lighthouse",
            check=True,
        )
    server = None
    instance = Path(tempfile.mkdtemp(prefix="helpdesk-lighthouse-"))
    url = args.url
    if not url:
        server, url = start_server(instance)
    failures = 0
    try:
        for language in args.languages.split(","):
            customer = signed_in(url, "customer1@demo.test", staff=False, language=language)
            agent = signed_in(url, "agent1@demo.test", staff=True, language=language)
            queue = agent.get("/agent").text
            ticket = re.search(r'href="(/agent/tickets/HD-\d+)"', queue).group(1)
            pages = [
                ("portal home", "/", customer),
                ("case form", "/portal/cases/new", customer),
                ("agent queue", "/agent", agent),
                ("ticket page", ticket, agent),
            ]
            for name, path, client in pages:
                scores = lighthouse(url + path, cookie_header(client), language, chrome)
                low = [c for c, score in scores.items() if score < args.min]
                failures += bool(low)
                figures = "  ".join(f"{c} {s}" for c, s in scores.items())
                print(
                    f"{language}  {name:<12} {figures}{'  BELOW ' + str(args.min) if low else ''}", flush=True
                )
    finally:
        if server:
            server.terminate()
            server.wait(timeout=15)
            shutil.rmtree(instance, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
