"""Inbound mail throughput: generate N messages and ingest them into a fresh SQLite instance.

    .venv/bin/python bench/ingest.py [--messages 5000] [--database-url URL]

A realistic mix: Arabic and English, 70 % new tickets from 1,000 senders (each acknowledged),
30 % replies threaded by In-Reply-To, some with a small attachment. Prints messages per second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpdesk import create_app
from helpdesk.extensions import db

SUBJECTS = ["Where is my order {n}?", "طلبي رقم {n} لم يصل", "Refund for order {n}", "استرجاع الطلب {n}"]
BODIES = [
    "Hello,\n\nmy order {n} has not arrived yet. Can you check?\n\nThanks",
    "السلام عليكم،\n\nالطلب رقم {n} متأخر، أرجو المتابعة.\n\nشكراً",
]


def generate(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    messages, sent_ids = [], []
    for n in range(count):
        msg = EmailMessage()
        sender = rng.randrange(1000)
        msg["From"] = f"Customer {sender} <customer{sender}@bench.example>"
        msg["To"] = "support@helpdesk.localhost"
        msg["Message-ID"] = f"<bench-{n}@bench.example>"
        if sent_ids and rng.random() < 0.3:
            parent = rng.choice(sent_ids)
            msg["Subject"] = "Re: your order"
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            msg.set_content(f"More details about {n}.\n\nOn Monday someone wrote:\n> earlier text\n")
        else:
            msg["Subject"] = rng.choice(SUBJECTS).format(n=n)
            msg.set_content(rng.choice(BODIES).format(n=n))
        if rng.random() < 0.1:
            msg.add_attachment(
                rng.randbytes(2048), maintype="application", subtype="pdf", filename=f"r{n}.pdf"
            )
        sent_ids.append(msg["Message-ID"])
        messages.append(msg.as_bytes(policy=SMTP))
    return messages


def _app(folder: Path, url: str):
    return create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def _worker(folder: Path, url: str, messages: list[bytes], results) -> None:
    """Ingest a share of the messages, as one of several `helpdesk worker` processes would."""
    app = _app(folder, url)
    with app.app_context():
        from helpdesk.mail.inbound import ingest

        actions: dict[str, int] = {}
        cpu_started = time.process_time()
        for raw in messages:
            action = ingest(raw, source="bench").action
            actions[action] = actions.get(action, 0) + 1
        results.put((actions, time.process_time() - cpu_started))
        db.session.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="parallel ingesting processes")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hd-bench-ingest-"))
    try:
        url = args.database_url or f"sqlite:///{folder / 'helpdesk.db'}"
        with _app(folder, url).app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            db.engine.dispose()
        messages = generate(args.messages)
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        shares = [messages[i :: args.workers] for i in range(args.workers)]
        started = time.perf_counter()
        processes = [context.Process(target=_worker, args=(folder, url, share, results)) for share in shares]
        for process in processes:
            process.start()
        outcomes = [results.get() for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
        actions: dict[str, int] = {}
        for counts, _cpu in outcomes:
            for action, n in counts.items():
                actions[action] = actions.get(action, 0) + n
        cpu = sum(c for _a, c in outcomes)
        print(
            f"ingested {len(messages)} messages with {args.workers} worker(s) in {elapsed:.1f} s: "
            f"{len(messages) / elapsed:.0f} messages/s  {actions}"
        )
        # On a shared machine the wall clock includes waiting for a core; CPU time does not.
        print(f"CPU time {cpu:.1f} s: {len(messages) / cpu:.0f} messages per CPU-second")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
