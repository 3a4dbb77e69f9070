"""`make bench` (WhatsApp): signed webhook deliveries accepted over HTTP (ledger write only), then
the worker filing them into tickets.

    python -m bench.whatsapp                    # 2,000 messages from 200 customers
    python -m bench.whatsapp --messages 500
    python -m bench.whatsapp --save bench/results/whatsapp.jsonl   # keep the figures

Targets (issue 25): ≥ 200 deliveries/s accepted by one web process, ≥ 150 messages/s filed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import click
import httpx
from werkzeug.serving import make_server

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.schema import upgrade_schema
from helpdesk.tickets.models import Queue
from helpdesk.whatsapp import inbound
from helpdesk.whatsapp.accounts import Settings, connect
from tests.whatsapp import payloads
from tests.whatsapp.peer import CloudPeer


@click.command()
@click.option("--messages", default=2_000, show_default=True)
@click.option("--customers", default=200, show_default=True)
@click.option("--senders", default=8, show_default=True, help="Concurrent HTTP clients.")
@click.option("--save", type=click.Path(dir_okay=False), help="Append the figures to this JSON-lines file.")
def main(messages: int, customers: int, senders: int, save: str | None) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("helpdesk").setLevel(logging.ERROR)
    os.environ.update(WA_TOKEN=payloads.ACCESS_TOKEN, WA_APP_SECRET=payloads.APP_SECRET, WA_VERIFY="v")
    folder = tempfile.mkdtemp(prefix="bench-whatsapp-")
    try:
        with CloudPeer() as cloud:
            app = create_app(
                {
                    "SECRET_KEY": "bench",
                    "INSTANCE_PATH": folder,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/b.db",
                }
            )
            with app.app_context():
                upgrade_schema()
                queue = Queue(slug="whatsapp", name_en="WhatsApp", name_ar="واتساب")
                db.session.add(queue)
                connect(
                    queue,
                    Settings(payloads.PHONE_NUMBER_ID, "WA_TOKEN", "WA_APP_SECRET", "WA_VERIFY", cloud.url),
                )
                db.session.commit()
                now = int(time.time())
                bodies = [
                    payloads.signed(
                        payloads.text(
                            f"رسالة رقم {n}",
                            wamid=f"wamid.B{n}",
                            ts=now - 600 + n // 10,
                            wa_id=f"9665{n % customers:08d}",
                        )
                    )
                    for n in range(messages)
                ]
                server = make_server("127.0.0.1", 0, app, threaded=True)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                url = f"http://127.0.0.1:{server.server_port}/channels/whatsapp/webhook"

                def send(chunk: list) -> None:
                    with httpx.Client() as http:
                        for body, headers in chunk:
                            assert http.post(url, content=body, headers=headers).status_code == 200

                started = time.perf_counter()
                with ThreadPoolExecutor(senders) as pool:
                    list(pool.map(send, [bodies[i::senders] for i in range(senders)]))
                accepted = time.perf_counter() - started
                server.shutdown()
                started = time.perf_counter()
                filed = 0
                while done := inbound.process_due(limit=1000):
                    filed += done
                filing = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if save:
        record = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "messages": messages,
            "accepted_per_s": round(messages / accepted, 1),
            "filed_per_s": round(filed / filing, 1),
        }
        with open(save, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
    click.echo("| operation | count | time | rate |")
    click.echo("|---|---|---|---|")
    click.echo(
        f"| WhatsApp webhooks accepted (ledger) | {messages} | {accepted:.1f} s "
        f"| {messages / accepted:.0f}/s |"
    )
    click.echo(
        f"| WhatsApp messages filed by the worker | {filed} | {filing:.1f} s | {filed / filing:.0f}/s |"
    )


if __name__ == "__main__":
    main()
