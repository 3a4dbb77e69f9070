"""Load the benchmark dataset (JSONL exported from our database by bench/peer.py) into
django-helpdesk through its own models, with bulk_create. Run with the peer venv's python from the
project dir: ``load.py <dataset.jsonl>``."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproj.settings")
sys.path.insert(0, os.getcwd())

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from helpdesk.models import FollowUp, KBCategory, KBItem, Queue, Ticket, UserSettings  # noqa: E402

PASSWORD = "bench1234"
BATCH = 5000
# Our statuses in django-helpdesk's: open (1) with on_hold for paused tickets, resolved (3), closed (4).
STATUS = {"new": 1, "open": 1, "pending": 1, "on_hold": 1, "solved": 3, "closed": 4}
PRIORITY = {"urgent": 1, "high": 2, "normal": 3, "low": 4}


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def keep_given_dates() -> None:
    """bulk_create fills auto_now / auto_now_add fields with the current time; the dataset brings its
    own creation and change times, so switch those off for the load."""
    Ticket._meta.get_field("created").auto_now_add = False
    Ticket._meta.get_field("modified").auto_now = False


def main(path: str) -> None:
    call_command("migrate", verbosity=0)
    keep_given_dates()
    password = make_password(PASSWORD)
    pending: dict[type, list] = {}
    order = [User, Queue, KBCategory, KBItem, Ticket, FollowUp]
    counts = dict.fromkeys(order, 0)

    def flush(model: type) -> None:
        rows = pending.pop(model, [])
        if rows:
            model.objects.bulk_create(rows, batch_size=BATCH)
            counts[model] += len(rows)

    def add(model: type, obj) -> None:
        pending.setdefault(model, []).append(obj)
        # Parents are always written before children: flush everything earlier in the order first.
        if len(pending[model]) >= BATCH:
            for earlier in order[: order.index(model) + 1]:
                flush(earlier)

    with open(path, encoding="utf-8") as lines:
        for line in lines:
            r = json.loads(line)
            kind = r["t"]
            if kind == "staff":
                add(
                    User,
                    User(
                        id=r["id"],
                        username=r["email"],
                        email=r["email"],
                        first_name=r["name"],
                        is_staff=True,
                        is_superuser=r["admin"],
                        password=password,
                    ),
                )
            elif kind == "customer_user":
                add(User, User(id=r["id"], username=r["email"], email=r["email"], password=password))
            elif kind == "queue":
                add(
                    Queue,
                    Queue(
                        id=r["id"],
                        title=r["title"],
                        slug=r["slug"],
                        email_address=r["email"],
                        allow_email_submission=True,
                        email_box_type="local",
                    ),
                )
            elif kind == "kbcat":
                add(
                    KBCategory,
                    KBCategory(
                        id=r["id"],
                        name=r["name"],
                        title=r["name"],
                        slug=r["slug"],
                        description=r["description"],
                        public=True,
                    ),
                )
            elif kind == "kbitem":
                add(
                    KBItem,
                    KBItem(
                        id=r["id"],
                        category_id=r["category"],
                        title=r["title"],
                        question=r["title"],
                        answer=r["answer"],
                        votes=r["votes"],
                        recommendations=r["recommendations"],
                        last_updated=when(r["updated"]),
                        enabled=r["enabled"],
                        order=r["id"],
                    ),
                )
            elif kind == "ticket":
                add(
                    Ticket,
                    Ticket(
                        id=r["id"],
                        title=r["title"][:200],
                        queue_id=r["queue"],
                        created=when(r["created"]),
                        modified=when(r["modified"]),
                        submitter_email=r["email"],
                        assigned_to_id=r["assignee"],
                        status=STATUS[r["status"]],
                        on_hold=r["status"] == "on_hold",
                        description=r["description"],
                        priority=PRIORITY[r["priority"]],
                    ),
                )
            elif kind == "followup":
                add(
                    FollowUp,
                    FollowUp(
                        id=r["id"],
                        ticket_id=r["ticket"],
                        date=when(r["date"]),
                        title=r["title"],
                        comment=r["comment"],
                        public=r["public"],
                        user_id=r["user"],
                    ),
                )
    for model in order:
        flush(model)
    # Every user gets its helpdesk settings from a post_save signal, which bulk_create skips.
    UserSettings.objects.bulk_create(UserSettings(user=user) for user in User.objects.all())
    print(json.dumps({m.__name__: n for m, n in counts.items()}))


if __name__ == "__main__":
    main(sys.argv[1])
