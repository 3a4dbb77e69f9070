"""Helpdesk: an Arabic-first bilingual customer-support helpdesk and self-service portal."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory (imported lazily: ``import helpdesk`` alone loads no feature)."""
    from helpdesk.app import create_app as create

    return create(config)
