"""A local WhatsApp Cloud API (Graph API) on 127.0.0.1 speaking the documented shapes: send message,
media upload, media URL lookup and download; with the errors a sender must survive (429 rate limit,
the 24-hour-window error 131047, the API down).

- POST /{phone-number-id}/messages → {"messaging_product", "contacts": [{"input", "wa_id"}],
  "messages": [{"id": "wamid…"}]}  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
- POST /{phone-number-id}/media → {"id"}; GET /{media-id} → {"url", "mime_type", "sha256", "file_size",
  "id", "messaging_product"}; GET url → bytes  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
- errors: {"error": {"message", "type", "code", "error_data": {"messaging_product", "details"},
  "fbtrace_id"}}  https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.whatsapp.payloads import ACCESS_TOKEN, PHONE_NUMBER_ID


@dataclass
class CloudState:
    sent: list[dict] = field(default_factory=list)
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_down: bool = False
    down: bool = False
    rate_limited: int = 0  # answer 429 to this many sends
    window_closed: bool = False
    downloads: list[str] = field(default_factory=list)  # media ids asked for, in order


class CloudPeer:
    def __init__(self) -> None:
        self.state = CloudState()
        self._ids = itertools.count(1)
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v21.0"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CloudPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()

    @staticmethod
    def _json(body: object, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    @classmethod
    def _error(cls, status: int, code: int, message: str, details: str) -> Response:
        error = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEf123",
        }
        return cls._json({"error": error}, status)

    def wsgi(self, environ, start_response):
        return self.route(Request(environ))(environ, start_response)

    def route(self, request: Request) -> Response:
        state = self.state
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._error(401, 190, "Error validating access token", "The access token is invalid")
        path = request.path.removeprefix("/v21.0/")
        if path.startswith("download/"):
            state.downloads.append(path.removeprefix("download/"))
            if state.media_down:
                return self._json({"error": "unavailable"}, 503)
            data, mime = state.media[path.removeprefix("download/")]
            return Response(data, mimetype=mime)
        if state.down:
            return self._json({"error": "Service Unavailable"}, 503)
        if path == f"{PHONE_NUMBER_ID}/messages" and request.method == "POST":
            if state.rate_limited:
                state.rate_limited -= 1
                return self._error(
                    429, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."
                )
            if state.window_closed:
                return self._error(
                    400,
                    131047,
                    "(#131047) Re-engagement message",
                    "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied.",
                )
            body = request.get_json()
            state.sent.append(body)
            wamid = f"wamid.OUT{next(self._ids)}"
            return self._json(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": wamid}],
                }
            )
        if path == f"{PHONE_NUMBER_ID}/media" and request.method == "POST":
            upload = request.files["file"]
            data = upload.read()
            state.uploads.append((request.form["type"], data))
            media_id = f"up{next(self._ids)}"
            state.media[media_id] = (data, request.form["type"])
            return self._json({"id": media_id})
        if request.method == "GET" and path in state.media:
            data, mime = state.media[path]
            return self._json(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}/download/{path}",
                    "mime_type": mime,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": len(data),
                    "id": path,
                }
            )
        return self._error(400, 100, "Unsupported get request", f"Unknown path {path}")
