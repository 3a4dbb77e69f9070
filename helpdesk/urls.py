"""Absolute links for emails and notifications, built from the routes and ``BASE_URL``.

Emails are written by the worker and the mail channel as well as by requests, so a link cannot rely
on the current request's host: it is built with the URL map bound to the configured public address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values, _external=True)`` for the public address, with or without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
