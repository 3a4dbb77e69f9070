"""Which search backend this app uses: Whoosh files in the instance folder (one host, the embedded
set-up on SQLite) or tables in PostgreSQL (every host that shares the database sees one index).

``SEARCH_BACKEND`` is ``auto`` (PostgreSQL's tables on PostgreSQL, Whoosh otherwise), ``whoosh``
or ``postgres``."""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from helpdesk.extensions import db


def uses_postgres(session: Session | None = None) -> bool:
    """Whether the indexes live in PostgreSQL (the documents are written at commit)."""
    if not has_app_context():
        return False
    choice = current_app.config.get("SEARCH_BACKEND", "auto")
    if choice == "whoosh":
        return False
    bind = session.get_bind() if session is not None else db.engine
    dialect = bind.dialect.name
    if choice == "postgres" and dialect != "postgresql":
        raise RuntimeError("SEARCH_BACKEND=postgres needs a PostgreSQL database")
    return dialect == "postgresql"
