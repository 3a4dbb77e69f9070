"""Time django-helpdesk on the benchmark dataset; prints one JSON object. Run with the peer venv's
python from the project dir:

    timing.py inprocess <requests> <big ticket id> <customer email>
    timing.py http <requests> <big ticket id> <customer email> <base url>
    timing.py email <mail dir>            (on a copy of the database: PEER_DB)

Each operation gets PEER_BUDGET_SECONDS (default 20): pages that take seconds are sampled fewer
than <requests> times, and the result says so ("capped").

Operations mirror ours: its ticket list (the page plus the datatables JSON that fills it, as a
browser loads it), a filtered list, page 50 of the list, the staff dashboard, the ticket view, the
customer's "my tickets", the KB category page (django-helpdesk has no KB search), and email
processing of the same .eml files through its local-mailbox importer.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproj.settings")
sys.path.insert(0, os.getcwd())
# bench/ itself, not the repo root: our `helpdesk` package would shadow django-helpdesk there
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django

django.setup()

from measure import time_requests  # noqa: E402

PASSWORD = "bench1234"
STAFF_EMAIL = "agent1@bench.test"
LIST = "/helpdesk/tickets/"


class InProcess:
    def __init__(self, email: str) -> None:
        from django.contrib.auth.models import User
        from django.test import Client

        self.client = Client(raise_request_exception=False)
        self.client.force_login(User.objects.get(username=email))

    def get(self, url: str) -> tuple[int, str]:
        response = self.client.get(url)
        return response.status_code, response.content.decode("utf-8", "replace")


class OverHttp:
    def __init__(self, email: str, base: str) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        page = self.session.get(base + "/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = self.session.post(
            base + "/login/",
            data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": base + "/login/"},
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise SystemExit(f"peer sign-in failed: HTTP {answer.status_code}")

    def get(self, url: str) -> tuple[int, str]:
        response = self.session.get(self.base + url, allow_redirects=False)
        return response.status_code, response.text


def datatables_url(client, list_url: str) -> str:
    status, html = client.get(list_url)
    found = re.search(r'"url": "([^"]*datatables_ticket_list/[^"]*)"', html)
    if status != 200 or not found:
        raise SystemExit(f"no datatables URL on {list_url} (HTTP {status})")
    return unescape(found.group(1))


def list_with_rows(client, list_url: str, start: int = 0):
    """The page and its first 50 rows: what a browser loads to show the list."""
    data = datatables_url(client, list_url) + f"?draw=1&start={start}&length=50"

    def call(_i: int) -> int:
        status, _html = client.get(list_url)
        if status != 200:
            return status
        return client.get(data)[0]

    return call


def both(client, page: str, data: str):
    """A page and the JSON request its script makes to fill it in, timed as one."""

    def call(_i: int) -> int:
        status, _html = client.get(page)
        return status if status != 200 else client.get(data)[0]

    return call


def operations(client_for, requests: int, big_ticket: int, customer: str, budget: float) -> dict:
    staff = client_for(STAFF_EMAIL)
    customer_client = client_for(customer)
    filtered = LIST + "?status=1&status=2&assigned_to=-1"
    page50 = datatables_url(staff, LIST) + "?draw=1&start=2450&length=50"
    ops = {
        "queue_default": list_with_rows(staff, LIST),
        "queue_filtered": list_with_rows(staff, filtered),
        "queue_page50": lambda _i: staff.get(page50)[0],
        "dashboard": lambda _i: staff.get("/helpdesk/dashboard/")[0],
        "ticket_page": lambda _i: staff.get(f"/helpdesk/tickets/{big_ticket}/")[0],
        "portal_cases": both(customer_client, "/helpdesk/tickets/my-tickets/", "/helpdesk/api/user_tickets/"),
        "kb_category": lambda _i: customer_client.get("/helpdesk/kb/topic-1/")[0],
    }
    return {name: time_requests(call, requests, budget_seconds=budget) for name, call in ops.items()}


def email(mail_dir: str) -> dict:
    """django-helpdesk's own importer (helpdesk.email.process_queue, local mailbox) over the files."""
    from helpdesk.email import process_queue
    from helpdesk.models import Queue

    work = Path(tempfile.mkdtemp(prefix="peer-mail-"))
    try:
        files = sorted(Path(mail_dir).glob("*.eml"))
        for f in files:
            shutil.copy(f, work / f.name)
        queue = Queue.objects.get(slug="orders")
        queue.email_box_type = "local"
        queue.email_box_local_dir = str(work)
        queue.save()
        logger = logging.getLogger("peer-email")
        logger.setLevel(logging.WARNING)
        start = time.perf_counter()
        process_queue(queue, logger=logger)
        elapsed = time.perf_counter() - start
        left = len(list(work.iterdir()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    done = len(files) - left
    return {
        "messages": len(files),
        "failed": left,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(done / elapsed, 1) if elapsed else None,
    }


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "email":
        print(json.dumps(email(argv[1])))
        return
    requests, big_ticket, customer = int(argv[1]), int(argv[2]), argv[3]
    budget = float(os.environ.get("PEER_BUDGET_SECONDS", "20"))
    if mode == "inprocess":
        result = operations(InProcess, requests, big_ticket, customer, budget)
    else:
        base = argv[4]
        result = operations(lambda who: OverHttp(who, base), requests, big_ticket, customer, budget)
    print(json.dumps(result))


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    main(sys.argv[1:])
