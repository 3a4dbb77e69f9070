"""Helpdesk: an Arabic-first bilingual customer-support helpdesk and self-service portal."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from helpdesk.app import build_app

    return build_app(config)
