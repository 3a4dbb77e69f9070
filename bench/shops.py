"""`make bench` (shops): the Salla and Zid connectors against the local peer of the tests.

    python -m bench.shops                   # 50,000 orders per platform, 1,000 webhooks
    python -m bench.shops --orders 5000 --webhooks 200

Sync: orders per second from the peer's paginated order lists into a fresh SQLite database (target
≥ 500/s). Webhooks: the time from sending a signed Salla delivery over HTTP to its 200, stored in the
inbox but not yet mapped (target p95 ≤ 20 ms), then the worker's mapping rate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
import statistics
import tempfile
import threading
import time

import click
import httpx
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.integrations import inbox, tokens
from helpdesk.integrations.models import Platform
from helpdesk.integrations.sync import sync_store
from helpdesk.schema import upgrade_schema
from tests.integrations.payloads import salla_order, salla_webhook
from tests.integrations.peer import Peer

SECRET = "bench-webhook-secret"


def _app(folder: str, peer: Peer):
    return create_app(
        {
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SHOP_TOKEN_KEY": Fernet.generate_key().decode(),
            "SALLA_CLIENT_SECRET": "salla-client-secret",
            "SALLA_WEBHOOK_SECRET": SECRET,
            "SALLA_OAUTH_URL": peer.url,
            "SALLA_API_URL": f"{peer.url}/admin/v2",
            "ZID_CLIENT_SECRET": "zid-client-secret",
            "ZID_OAUTH_URL": peer.url,
            "ZID_API_URL": f"{peer.url}/v1",
        }
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


@click.command()
@click.option("--orders", default=50_000, show_default=True)
@click.option("--webhooks", default=1_000, show_default=True)
def main(orders: int, webhooks: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="bench-shops-")
    try:
        with Peer() as peer:
            app = _app(folder, peer)
            with app.app_context():
                upgrade_schema()
                peer.state.orders = orders
                rows = []
                for platform, store, found in (
                    (Platform.SALLA, "1234509876", tokens.Tokens("sa-access-1", "r", None)),
                    (Platform.ZID, "251073", tokens.Tokens("zid-manager-1", "r", None, "zid-app-auth")),
                ):
                    connection = tokens.save_tokens(platform, store, found)
                    db.session.commit()
                    result = sync_store(connection, None)
                    rows.append((platform.value, result.orders, result.seconds))
                server = make_server("127.0.0.1", 0, app, threaded=True)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                url = f"http://127.0.0.1:{server.server_port}/integrations/salla/webhook"
                took = []
                with httpx.Client() as http:
                    for n in range(webhooks):
                        event = "order.status.updated" if n % 2 else "order.created"
                        body = json.dumps(salla_webhook(event, salla_order(900_000 + n))).encode()
                        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                        started = time.perf_counter()
                        answer = http.post(url, content=body, headers={"X-Salla-Signature": signature})
                        took.append((time.perf_counter() - started) * 1000)
                        assert answer.status_code == 200, answer.text
                server.shutdown()
                started = time.perf_counter()
                mapped = 0
                while True:
                    done = inbox.map_shop_webhooks(app)
                    mapped += done
                    if not done:
                        break
                mapping = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    click.echo("| operation | count | time | rate / latency |")
    click.echo("|---|---|---|---|")
    for name, count, seconds in rows:
        click.echo(f"| {name} sync | {count} orders | {seconds:.1f} s | {count / seconds:.0f} orders/s |")
    click.echo(
        f"| salla webhook accepted | {webhooks} | — | p50 {statistics.median(took):.1f} ms, "
        f"p95 {_percentile(took, 0.95):.1f} ms |"
    )
    click.echo(f"| webhooks mapped by the worker | {mapped} | {mapping:.1f} s | {mapped / mapping:.0f}/s |")


if __name__ == "__main__":
    main()
