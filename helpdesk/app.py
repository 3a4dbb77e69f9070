"""Application assembly: config, extensions, blueprints, CLI, error pages."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from helpdesk.config import PACKAGE_DIR, TEMPLATES_DIR, load_config
from helpdesk.extensions import babel, csrf, db, htmx, limiter, login_manager, mail
from helpdesk.i18n import (
    LANGUAGE_CHOICES,
    LANGUAGE_NAMES,
    current_language,
    format_file_size,
    format_local_date,
    format_local_datetime,
    format_money,
    format_number,
    format_share,
    select_locale,
    text_direction,
    use_cached_wtforms_messages,
)
from helpdesk.memory import return_large_buffers
from helpdesk.search.indexer import give_back_searchers
from helpdesk.theme import register_theme
from helpdesk.wiring import connect_features


def configure_engine(engine: Engine) -> Engine:
    """What every connection of ours needs, on both databases (the app's engines, and those a test or
    a second worker process opens on the same database)."""
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "savepoint", _sqlite_savepoint_takes_the_write_lock)
    event.listen(engine, "before_cursor_execute", _strip_nul_characters, retval=True)
    return engine


def _sqlite_savepoint_takes_the_write_lock(conn, _name) -> None:
    """On SQLite a SAVEPOINT outside a transaction starts a deferred one: its reads take a snapshot,
    and its first write then fails at once with 'database is locked' if another process committed
    in between (WAL's stale snapshot; the busy timeout does not apply). A claim lost that way to the
    worker recording a webhook delivery. ``BEGIN IMMEDIATE`` first takes the write lock, waiting
    for it like any write; the savepoint (a write path: ``begin_nested``) then nests inside."""
    raw = conn.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers, enforced foreign keys, and a busy timeout rather than
    'database is locked' errors."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _strip_nul_characters(_conn, _cursor, statement, parameters, _context, executemany):
    """NUL characters arrive in hostile form input and broken mail; PostgreSQL refuses them in text
    (raw mail is stored as bytes, which this leaves alone). Removed on every database alike."""
    # SQLAlchemy's "insertmanyvalues" batches (one multi-row INSERT) arrive flagged as executemany
    # but with the parameters of one statement: a mapping (PostgreSQL) or a flat list (SQLite).
    if (
        executemany
        and isinstance(parameters, list | tuple)
        and all(isinstance(row, dict | list | tuple) for row in parameters)
    ):
        return statement, [_without_nul(p) for p in parameters]
    return statement, _without_nul(parameters)


def _without_nul(parameters):
    if isinstance(parameters, dict):
        if any(isinstance(v, str) and "\x00" in v for v in parameters.values()):
            return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in parameters.items()}
    elif isinstance(parameters, tuple | list) and any(isinstance(v, str) and "\x00" in v for v in parameters):
        return type(parameters)(v.replace("\x00", "") if isinstance(v, str) else v for v in parameters)
    return parameters


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The application, with every feature wired (``helpdesk.create_app`` is this function)."""
    return_large_buffers()
    config = load_config(overrides)
    app = Flask(
        "helpdesk",
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    login_manager.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    app.teardown_appcontext(give_back_searchers)
    app.before_request(use_cached_wtforms_messages)

    _import_models()
    connect_features()
    _configure_login(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    _register_security_headers(app)
    _register_favicon(app)
    register_theme(app)

    from helpdesk.cli import register_commands

    register_commands(app)
    return app


def _import_models() -> None:
    """Every feature's models, so the metadata (and Alembic autogenerate) sees all tables."""
    import helpdesk.agents.models
    import helpdesk.api.models
    import helpdesk.audit.models
    import helpdesk.auth.models
    import helpdesk.automations.models
    import helpdesk.blobs
    import helpdesk.companies.models
    import helpdesk.custom_fields.models
    import helpdesk.customers.models
    import helpdesk.integrations.models
    import helpdesk.kb.models
    import helpdesk.live.models
    import helpdesk.mail.models
    import helpdesk.reports.models
    import helpdesk.search.models
    import helpdesk.sla.models
    import helpdesk.tickets.models
    import helpdesk.whatsapp.models  # noqa: F401


def _configure_login(app: Flask) -> None:
    from helpdesk.auth import sso
    from helpdesk.auth.service import load_user

    login_manager.user_loader(load_user)
    login_manager.session_protection = "strong"
    sso.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from helpdesk.admin.views import bp as admin_bp
    from helpdesk.agents.views import bp as agents_bp
    from helpdesk.api.spec import init_api
    from helpdesk.api.views import bp as api_pages_bp
    from helpdesk.auth.link_views import bp as signin_bp
    from helpdesk.auth.security_views import bp as security_bp
    from helpdesk.auth.sso_views import bp as sso_bp
    from helpdesk.auth.views import bp as auth_bp
    from helpdesk.automations.views import bp as automations_bp
    from helpdesk.customers.webhook import bp as orders_webhook_bp
    from helpdesk.integrations.views import bp as integrations_bp
    from helpdesk.kb.views import bp as kb_bp
    from helpdesk.live.views import bp as live_bp
    from helpdesk.mail.views import bp as mail_bp
    from helpdesk.portal.views import bp as portal_bp
    from helpdesk.reports.views import bp as reports_bp
    from helpdesk.whatsapp.views import bp as whatsapp_bp

    for blueprint in (
        auth_bp,
        signin_bp,
        security_bp,
        sso_bp,
        portal_bp,
        kb_bp,
        agents_bp,
        admin_bp,
        reports_bp,
        orders_webhook_bp,
        api_pages_bp,
        mail_bp,
        automations_bp,
        integrations_bp,
        whatsapp_bp,
        live_bp,
    ):
        app.register_blueprint(blueprint)
    init_api(app)


def _register_template_helpers(app: Flask) -> None:
    from helpdesk.auth import sso
    from helpdesk.auth.devices import sign_in_method_label
    from helpdesk.auth.models import Role
    from helpdesk.auth.permissions import may_open
    from helpdesk.customers.labels import (
        address_text,
        country_name,
        order_status_label,
        tier_label,
        timeline_labels,
    )
    from helpdesk.integrations.panel import orders_to_pick, platform_label, shop_orders_for
    from helpdesk.live.urls import live_stream_url
    from helpdesk.sla.badges import register_template_helpers as register_sla_helpers
    from helpdesk.tickets.labels import (
        CHANNEL_LABELS,
        CUSTOMER_STATUS_LABELS,
        PRIORITY_LABELS,
        STATUS_LABELS,
        event_text,
    )

    @app.context_processor
    def inject_shell() -> dict[str, Any]:
        language = current_language()
        return {
            "lang": language,
            "dir": text_direction(language),
            "other_language": "en" if language == "ar" else "ar",
            "Role": Role,
            # Translated once per page here, not once per row (a queue page shows 50 of each).
            "STATUS_LABELS": {status: str(label) for status, label in STATUS_LABELS.items()},
            "CUSTOMER_STATUS_LABELS": {
                status: str(label) for status, label in CUSTOMER_STATUS_LABELS.items()
            },
            "PRIORITY_LABELS": {priority: str(label) for priority, label in PRIORITY_LABELS.items()},
            "CHANNEL_LABELS": {channel: str(label) for channel, label in CHANNEL_LABELS.items()},
        }

    app.add_template_global(LANGUAGE_CHOICES, "LANGUAGE_CHOICES")
    app.add_template_global(LANGUAGE_NAMES, "LANGUAGE_NAMES")
    register_sla_helpers(app)
    app.add_template_global(order_status_label)
    app.add_template_global(address_text)
    app.add_template_global(country_name)
    app.add_template_global(tier_label)
    app.add_template_global(timeline_labels)
    app.add_template_global(event_text)
    # The shop platforms: the customer panel's orders, the portal's order picker, platform names.
    app.add_template_global(shop_orders_for, "shop_orders")
    app.add_template_global(orders_to_pick)
    app.add_template_global(platform_label)
    app.add_template_global(sign_in_method_label)
    app.add_template_global(sso.is_enabled, "sso_enabled")
    app.add_template_global(live_stream_url)
    app.add_template_global(may_open)

    @app.template_filter("localtime")
    def localtime(value, format: str = "medium") -> str:
        return format_local_datetime(value, format) if value else ""

    app.add_template_filter(lambda value: format_local_date(value) if value else "", "localdate")
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_share, "share")
    app.add_template_filter(format_file_size, "filesize")


def _register_error_pages(app: Flask) -> None:
    def render_error(code: int, message: str | None = None):
        return render_template("errors/error.html", code=code, message=message), code

    from helpdesk.api.errors import API_PREFIX, error_response

    def http_error(error: HTTPException):
        if request.path.startswith(API_PREFIX):  # e.g. an unknown URL under /api/: JSON, not a page
            return error_response(error)
        # Show a description only when the code gave one of its own (already translated).
        custom = error.description if error.description != type(error).description else None
        if error.code == 413 and custom is None:
            custom = _too_large_message()
        return render_error(error.code or 500, custom)

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, http_error)
    app.register_error_handler(500, lambda error: render_error(500))

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        return render_error(400, "csrf")


def _too_large_message() -> str:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 2**20
    return _("What you sent is too large: the limit is %(limit)s MB in all.", limit=limit)


def _register_favicon(app: Flask) -> None:
    """Pages link the SVG icon; a client that asks for /favicon.ico anyway is sent to it, not a 404."""
    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: redirect(url_for("static", filename="favicon.svg"), 301),
    )


def _register_security_headers(app: Flask) -> None:
    from helpdesk.live.urls import live_stream_origin

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{live_stream_origin()}; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_app.config["PRODUCTION"]:  # served over HTTPS only (ASVS 14.4.5)
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(("/agent", "/admin", "/portal", "/api", "/account")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
