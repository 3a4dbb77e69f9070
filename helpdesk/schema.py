"""Schema migrations (Flask-Migrate over Alembic), loaded only where the schema is worked on.

Importing Flask-Migrate imports Alembic, Mako and Pygments: about 9 MB that a web process never
uses. So the app does not register it; `helpdesk db …` and the commands that migrate do, when they run.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from helpdesk.config import MIGRATIONS_DIR
from helpdesk.extensions import db


def init_migrations(app: Flask) -> None:
    """Register Flask-Migrate on ``app`` (once)."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, include_object=include_object)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate's filter: tables marked ``postgresql_only`` (the search backend's) exist only
    on PostgreSQL, so elsewhere they are neither created nor reported missing."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    if table is not None and table.info.get("postgresql_only"):
        return db.engine.dialect.name == "postgresql"
    return True


def upgrade_schema(revision: str = "heads") -> None:
    """Bring the current app's database up to ``revision``."""
    init_migrations(current_app._get_current_object())
    from flask_migrate import upgrade

    upgrade(revision=revision)


@click.command(
    "db",
    help="Alembic migrations (Flask-Migrate).",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.pass_context
def db_command(ctx: click.Context) -> None:
    """`helpdesk db …`: Flask-Migrate's own command group, imported only when it is run."""
    init_migrations(current_app._get_current_object())
    from flask_migrate.cli import db

    with db.make_context(ctx.info_name, list(ctx.args), parent=ctx.parent) as migrate_ctx:
        db.invoke(migrate_ctx)
