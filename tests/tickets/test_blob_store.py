"""Both attachment stores: the disk (embedded default) and the database (several hosts)."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask

from helpdesk import create_app
from helpdesk.blobs import CHUNK_BYTES, DatabaseStore, DiskStore, blob_store, store_name
from helpdesk.config import load_config
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from helpdesk.tickets.models import Attachment
from tests.conftest import Browser
from tests.factories import PASSWORD, count_queries, make_customer, make_staff, make_ticket

BIG = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 7)  # two full chunks and a bit


def _app_with(store: str, app_config: dict):
    """An app with the given store, inside the ``app`` fixture (which empties PostgreSQL after)."""
    app = create_app({**app_config, "BLOB_STORE": store})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["disk", "database"])
def store_app(request, app, app_config):
    yield from _app_with(request.param, app_config)


@pytest.fixture
def database_store_app(app, app_config):
    yield from _app_with("database", app_config)


def test_auto_means_the_database_on_postgresql_and_the_disk_on_sqlite():
    assert store_name({"BLOB_STORE": "auto"}, "postgresql+psycopg://db/helpdesk") == "database"
    assert store_name({"BLOB_STORE": "auto"}, "sqlite:///instance/helpdesk.db") == "disk"
    assert store_name({"BLOB_STORE": "disk"}, "postgresql+psycopg://db/helpdesk") == "disk"


def test_an_unknown_store_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("HELPDESK_BLOB_STORE", "s3")
    with pytest.raises(RuntimeError, match="HELPDESK_BLOB_STORE must be one of auto, disk, database"):
        load_config()


def test_a_file_is_stored_once_and_read_back_whole(store_app: Flask):
    store = blob_store()
    assert isinstance(store, DiskStore if store_app.config["BLOB_STORE"] == "disk" else DatabaseStore)
    digest = store.put(BIG)
    assert store.put(BIG) == digest == hashlib.sha256(BIG).hexdigest()
    db.session.commit()
    assert store.exists(digest) and list(store.digests()) == [digest]
    assert store.open(digest).read() == BIG
    empty = store.put(b"")
    db.session.commit()
    assert store.exists(empty) and store.open(empty).read() == b""


def test_the_database_store_reads_one_chunk_at_a_time(database_store_app):
    digest = blob_store().put(BIG)
    db.session.commit()
    reader = blob_store().open(digest)
    with count_queries() as queries:
        assert reader.read(10) == BIG[:10]
        assert reader.read(CHUNK_BYTES) == BIG[10:CHUNK_BYTES]  # the rest of the first chunk
    assert len(queries) == 1
    with count_queries() as queries:
        assert reader.read() == BIG[CHUNK_BYTES:]
    assert len(queries) == 3  # chunks two and three, then "no more"


def test_an_upload_rolled_back_leaves_no_file_in_the_database(database_store_app):
    digest = blob_store().put(b"draft that never committed")
    db.session.rollback()
    assert not blob_store().exists(digest)


def test_discarded_files_go_with_the_commit_and_stay_after_a_rollback(store_app: Flask):
    store = blob_store()
    digest = store.put(b"to be erased")
    db.session.commit()
    assert store.discard([digest, "0" * 64]) == 1  # only what exists is counted
    db.session.rollback()
    assert store.exists(digest)
    store.discard([digest])
    db.session.commit()
    assert not store.exists(digest)


def test_customer_and_agent_download_the_same_bytes_from_either_store(store_app: Flask):
    store_app.test_client_class = Browser
    client = store_app.test_client()
    customer, agent = make_customer(), make_staff()
    ticket = make_ticket(customer=customer)
    service.add_message(
        ticket,
        author=customer,
        body="the invoice",
        attachments=[IncomingFile("فاتورة.pdf", "application/pdf", BIG)],
    )
    db.session.commit()
    attachment = db.session.scalars(db.select(Attachment)).one()

    client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    url = f"/agent/attachments/{attachment.id}"
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.get_data() == BIG and int(response.headers["Content-Length"]) == len(BIG)
    assert response.headers["ETag"].strip('"') == attachment.sha256
    assert client.get(url, headers={"If-None-Match": f'"{attachment.sha256}"'}).status_code == 304


def test_an_install_moves_its_files_from_the_disk_to_the_database(app, app_config):
    disk_app = create_app({**app_config, "BLOB_STORE": "disk"})
    with disk_app.app_context():
        ticket = make_ticket()
        service.add_message(
            ticket, author=make_staff(), body="files", attachments=[IncomingFile("a.bin", "", BIG)]
        )
        db.session.commit()
        digest = db.session.scalars(db.select(Attachment.sha256)).one()
        db.session.remove()
    database_app = create_app({**app_config, "BLOB_STORE": "database"})
    runner = database_app.test_cli_runner()
    with database_app.app_context():
        status = runner.invoke(args=["blobs", "status"])
        assert status.exit_code == 1 and "store: database; files referred to: 1; missing: 1" in status.output
        copied = runner.invoke(args=["blobs", "copy", "--to", "database"])
        assert copied.exit_code == 0 and "1 copied, 0 already there" in copied.output, copied.output
        assert runner.invoke(args=["blobs", "copy", "--to", "database"]).output.endswith(
            "0 copied, 1 already there\n"
        )
        assert runner.invoke(args=["blobs", "status"]).exit_code == 0
        assert blob_store().open(digest).read() == BIG
        db.session.remove()
        db.engine.dispose()
