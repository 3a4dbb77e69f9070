"""Where the pages open their stream: ``HELPDESK_LIVE_URL`` (a path behind a proxy, or a URL), else
the embedded stream server's port on the host the page came from; empty means poll."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def live_stream_url() -> str:
    configured = current_app.config.get("LIVE_URL", "")
    if configured:
        return configured
    port = current_app.config.get("LIVE_PORT", 0)
    if not port:
        return ""
    return f"{request.scheme}://{urlsplit(request.host_url).hostname}:{port}/live/stream"


def live_stream_origin() -> str:
    """The stream's origin for the Content-Security-Policy (connect-src), when it is not this one."""
    url = live_stream_url()
    parts = urlsplit(url)
    return f" {parts.scheme}://{parts.netloc}" if parts.netloc else ""
