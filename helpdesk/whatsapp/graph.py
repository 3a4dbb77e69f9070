"""The Graph API calls of the Cloud API: send a message, upload and download media.

Shapes as documented by Meta:
- send: POST /{phone-number-id}/messages → {"messaging_product", "contacts", "messages": [{"id": wamid}]}
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
- media: GET /{media-id} → {"url", "mime_type", "sha256", "file_size", "id"}, then GET url with the
  token; upload: POST /{phone-number-id}/media (multipart: file, type, messaging_product)
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
- errors: {"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}
  https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from helpdesk.whatsapp.models import WhatsAppAccount

if TYPE_CHECKING:
    import httpx

TIMEOUT = 20.0
# Throughput (130429), pair rate (131056) and spam rate (131048) limits: wait and send again.
RATE_LIMIT_CODES = {"4", "80007", "130429", "131048", "131056"}
WINDOW_CLOSED_CODE = "131047"  # "Re-engagement message": more than 24 hours since the customer wrote


class GraphError(Exception):
    """The Graph API refused or could not be reached. ``retry`` says whether sending again later may
    work (network, 5xx, rate limits) or not (a refused request)."""

    def __init__(self, message: str, *, code: str | None = None, retry: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retry = retry


def secret(name: str) -> str:
    """The value of an environment variable named in the account's settings ('' when unset)."""
    return os.environ.get(name or "", "")


def _client(account: WhatsAppAccount) -> httpx.Client:
    import httpx  # not when a web process starts: with its command line's rich and pygments, 8 MB

    token = secret(account.token_env)
    if not token:
        raise GraphError(f"{account.token_env} is not set: no access token for the Graph API.", retry=True)
    return httpx.Client(
        base_url=account.graph_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )


def _answer(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.is_success and isinstance(data, dict):
        return data
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or "") or None
    details = (
        (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    text = f"HTTP {response.status_code}: {error.get('message') or response.text[:200]}"
    if details:
        text += f" ({details})"
    retry = response.status_code == 429 or response.status_code >= 500 or code in RATE_LIMIT_CODES
    raise GraphError(text, code=code, retry=retry)


def _call(account: WhatsAppAccount, method: str, path: str, **kwargs) -> httpx.Response:
    import httpx

    with _client(account) as http:
        try:
            return http.request(method, path.lstrip("/"), **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}", retry=True) from exc


def send_message(account: WhatsAppAccount, payload: dict) -> str:
    """Send one message; returns its wamid."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
    data = _answer(_call(account, "POST", f"{account.phone_number_id}/messages", json=body))
    try:
        return str(data["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise GraphError("The Graph API answered without a message id.", retry=True) from exc


def upload_media(account: WhatsAppAccount, filename: str, content_type: str, data: bytes) -> str:
    """Upload a file for a message; returns the media id."""
    answer = _answer(
        _call(
            account,
            "POST",
            f"{account.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": content_type},
            files={"file": (filename, data, content_type)},
        )
    )
    if not answer.get("id"):
        raise GraphError("The Graph API answered the upload without a media id.", retry=True)
    return str(answer["id"])


def download_media(account: WhatsAppAccount, media_id: str, limit: int) -> tuple[bytes, str]:
    """The bytes and MIME type of a customer's media, refused above ``limit`` bytes (the file is
    streamed, so a large one is never held whole)."""
    import httpx

    info = _answer(_call(account, "GET", str(media_id)))
    url = info.get("url")
    if not url:
        raise GraphError(f"No download URL for media {media_id}.", retry=True)
    if int(info.get("file_size") or 0) > limit:
        raise GraphError(f"Media {media_id} is larger than {limit // 2**20} MB.", retry=False)
    with _client(account) as http:
        try:
            with http.stream("GET", url, follow_redirects=False) as response:
                if not response.is_success:
                    raise GraphError(f"HTTP {response.status_code} downloading media {media_id}", retry=True)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise GraphError(f"Media {media_id} is larger than {limit // 2**20} MB.", retry=False)
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise GraphError(f"{type(exc).__name__}: {exc}", retry=True) from exc
    mime = info.get("mime_type") or response.headers.get("Content-Type") or "application/octet-stream"
    return b"".join(chunks), mime.split(";")[0].strip()
