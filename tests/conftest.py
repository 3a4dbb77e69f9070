"""Shared fixtures: a fresh app and database per test, a browser-like client (factories and query
counting are in ``tests/factories.py``).

SQLite (default): the schema is built once by running the real migrations into a template file,
which each test copies. PostgreSQL (``HELPDESK_TEST_DATABASE_URL``): the migrations run once on
that database and every table is truncated after each test.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, make_url, text

from helpdesk import create_app
from helpdesk.auth.models import Role, StaffUser
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.schema import upgrade_schema
from helpdesk.search import embeddings
from tests.factories import PASSWORD, POSTGRES_URL, REDIS_URL, count_queries, make_customer, make_staff


def _base_config(instance: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": None,
        "TWO_FACTOR_KEY": "3q2-7wXSg3uB5Xb6hX0Yc4kqY2m3Jm8Kc0b8fH3v7nE=",  # Fernet: staff TOTP secrets
        "VIEW_COUNTS_MAX_AGE": 0,  # fresh counts; tests/agents/test_view_counts.py turns the cache on
        # scrypt with 1/80 of the work: the suite signs in hundreds of times (tests/auth/test_passwords.py
        # checks the real parameters)
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }


def _migrate(config: dict) -> None:
    app = create_app(config)
    with app.app_context():
        upgrade_schema()
        db.engine.dispose()


def _create_database(url: str) -> None:
    """A worker's own database (``<name>_gw0``), created beside the one the run was given."""
    target = make_url(url)
    base = make_url(os.environ["HELPDESK_TEST_DATABASE_URL"])
    if target.database == base.database:
        return
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not conn.scalar(found, {"name": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> Path | None:
    if POSTGRES_URL:
        _create_database(POSTGRES_URL)
        with_schema = tmp_path_factory.mktemp("pg-instance")
        app = create_app(_base_config(with_schema, POSTGRES_URL))
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.engine.dispose()
        _migrate(_base_config(with_schema, POSTGRES_URL))
        return None
    folder = tmp_path_factory.mktemp("template")
    _migrate(_base_config(folder, f"sqlite:///{folder / 'helpdesk.db'}"))
    return folder / "helpdesk.db"


@pytest.fixture
def app_config(tmp_path, database_template) -> dict:
    instance = tmp_path / "instance"
    instance.mkdir()
    if POSTGRES_URL:
        return _base_config(instance, POSTGRES_URL)
    shutil.copy(database_template, instance / "helpdesk.db")
    return _base_config(instance, f"sqlite:///{instance / 'helpdesk.db'}")


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process and shared by the tests' apps (each test builds its
    own app, whose Jinja environment would compile every template it renders again). Jinja checks
    each entry against the template's source."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


@pytest.fixture(scope="session", autouse=True)
def passages_embedded_once() -> Iterator[None]:
    """Each text's vector is kept for the test process: a dozen tests index the demo articles, and
    embedding their 314 passages takes 16 s of a core each time. The model is deterministic; a new
    text still goes to it, and where the model is off or cannot load nothing is returned."""
    real = embeddings.embed_passages
    seen: dict[tuple[str, str], np.ndarray] = {}

    def embed_passages(texts: list[str], batch_size: int = 32) -> np.ndarray | None:
        if embeddings._model() is None:
            return None
        model = embeddings._configured_path()
        missing = [t for t in dict.fromkeys(texts) if (model, t) not in seen]
        if missing:
            vectors = real(missing, batch_size)
            if vectors is None:
                return None
            seen.update(((model, t), v) for t, v in zip(missing, vectors, strict=True))
        rows = [seen[(model, t)] for t in texts]
        return np.stack(rows) if rows else np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)

    embeddings.embed_passages = embed_passages
    yield
    embeddings.embed_passages = real


@pytest.fixture
def app(app_config) -> Iterator[Flask]:
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    with app.app_context():
        yield app
        db.session.remove()
        if POSTGRES_URL:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the real Redis (skips where none runs); its keys are
    deleted afterwards."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not running at {REDIS_URL} (apt install redis-server; .ci/run starts it)")
    prefix = f"helpdesk-test-{secrets.token_hex(4)}"
    yield prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


class Browser(FlaskClient):
    """A test client that submits forms the way a browser does: with the page's CSRF token.

    Each request runs in its own app context and database session, as in production (the test's
    own app context would otherwise share ``g`` and the session with every request). Afterwards the
    test's session starts a new transaction, so it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect followed from inside the request's own context
            return FlaskClient.open(self, *args, **kwargs)
        # An empty context has no app context pushed, so Flask pushes the request's own.
        response = contextvars.Context().run(FlaskClient.open, self, *args, **kwargs)
        db.session.commit()
        return response

    def csrf_token(self) -> str:
        page = self.get("/").get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, "no CSRF token on the home page"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def client(app) -> Browser:
    app.test_client_class = Browser
    return app.test_client()


@pytest.fixture
def login(client):
    """Sign a user in through the real login form; returns the client."""

    def sign_in(user: StaffUser | Customer) -> Browser:
        url = "/staff/login" if user.is_staff else "/login"
        response = client.submit(url, {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def login_as(login):
    """``login_as("agent")`` / ``login_as("customer")``: a new user of that kind, signed in."""

    def sign_in(kind: str) -> StaffUser | Customer:
        user = make_customer() if kind == "customer" else make_staff(Role(kind))
        login(user)
        return user

    return sign_in


@pytest.fixture
def queries():
    return count_queries


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server on loopback; the app's mail settings point at it."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = sink.port
    yield sink
    sink.stop()


@pytest.fixture
def dovecot():
    """A real IMAP server (Dovecot) on a free loopback port with one user and an empty maildir."""
    from tests.mail.dovecot_server import DovecotServer, dovecot_available

    if not dovecot_available():
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd; .ci/run installs it)")
    server = DovecotServer().start()
    yield server
    server.stop()
