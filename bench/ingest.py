"""Inbound mail throughput: generate N messages and run `helpdesk mail ingest` on them, fresh SQLite.

    .venv/bin/python bench/ingest.py [--messages 5000] [--workers 1] [--database-url URL] [--profile]

A realistic mix: Arabic and English, 70 % new tickets from 1,000 senders (each acknowledged),
30 % replies threaded by In-Reply-To, some with a small attachment; the database has the default
SLA calendar and policies, as a configured helpdesk does. The messages are written as `.eml` files
and each worker process runs the real `helpdesk mail ingest FILE…` command on its share, in-process
(Flask's CLI runner), so interpreter start-up is not what gets measured. Prints messages per second
(wall clock) and messages per CPU-second.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask

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


def run_ingest_command(app: Flask, files: Sequence[Path]) -> dict:
    """`helpdesk mail ingest FILE…` over ``files`` in one invocation, as a batch import runs it.

    Shared by this script and `make bench` (bench/ours.py), so both report the same thing.
    Returns the counts per action, the wall and CPU seconds, or an "error".
    """
    runner = app.test_cli_runner()
    cpu_started, started = time.process_time(), time.perf_counter()
    result = runner.invoke(args=["mail", "ingest", *map(str, files)])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if result.exit_code != 0:
        return {"error": f"`helpdesk mail ingest` failed: {result.output.strip()[-300:]}"}
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    actions = Counter(json.loads(line)["action"] for line in lines)
    return {"actions": dict(actions), "seconds": seconds, "cpu_seconds": cpu}


def _app(folder: Path, url: str) -> Flask:
    return create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def _worker(folder: Path, url: str, files: list[Path], results, profile_to: Path | None) -> None:
    """Ingest a share of the files, as one of several `helpdesk mail ingest` processes would."""
    app = _app(folder, url)
    profiler = None
    if profile_to is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    outcome = run_ingest_command(app, files)
    if profiler is not None:
        profiler.stop()
        profile_to.write_text(profiler.output_text(unicode=True, color=False))
    results.put(outcome)


def _next_outcome(results, processes) -> dict:
    """The next worker's result; an error instead of waiting forever when a worker died without one."""
    import queue

    while True:
        try:
            return results.get(timeout=1)
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                return {"error": f"an ingest worker exited with code {dead[0].exitcode}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=1, help="parallel ingesting processes")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary folder")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="write a pyinstrument profile of the first worker here"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="hd-bench-ingest-"))
    try:
        url = args.database_url or f"sqlite:///{folder / 'helpdesk.db'}"
        with _app(folder, url).app_context():
            from helpdesk.schema import upgrade_schema
            from helpdesk.sla.service import ensure_default_setup

            upgrade_schema()
            ensure_default_setup()
            db.session.commit()
            db.engine.dispose()
        mail_dir = folder / "mail"
        mail_dir.mkdir()
        files = []
        for n, raw in enumerate(generate(args.messages)):
            files.append(mail_dir / f"{n:05d}.eml")
            files[-1].write_bytes(raw)
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        shares = [files[i :: args.workers] for i in range(args.workers)]
        started = time.perf_counter()
        processes = [
            context.Process(
                target=_worker, args=(folder, url, share, results, args.profile if i == 0 else None)
            )
            for i, share in enumerate(shares)
        ]
        for process in processes:
            process.start()
        outcomes = [_next_outcome(results, processes) for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
        errors = [o["error"] for o in outcomes if "error" in o]
        if errors:
            print(errors[0], file=sys.stderr)
            return 1
        actions = sum((Counter(o["actions"]) for o in outcomes), Counter())
        cpu = sum(o["cpu_seconds"] for o in outcomes)
        print(
            f"ingested {len(files)} messages with {args.workers} worker(s) in {elapsed:.1f} s: "
            f"{len(files) / elapsed:.0f} messages/s  {dict(actions)}"
        )
        # On a shared machine the wall clock includes waiting for a core; CPU time does not.
        print(f"CPU time {cpu:.1f} s: {len(files) / cpu:.0f} messages per CPU-second")
        if args.profile:
            print(f"profile: {args.profile}")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
