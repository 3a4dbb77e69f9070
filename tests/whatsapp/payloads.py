"""Webhook deliveries as Meta documents them, written by us for the tests.

Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
(``object``/``entry``/``changes``/``value`` with ``metadata``, ``contacts``, ``messages`` or ``statuses``;
media messages carry ``{"id", "mime_type", "sha256"}``, voice notes ``"voice": true``; statuses are
``sent``/``delivered``/``read``/``failed`` with ``errors: [{"code", "title"}]``).
"""

from __future__ import annotations

import hashlib
import hmac
import json

PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "wa-app-secret"
VERIFY_TOKEN = "wa-verify-token"
ACCESS_TOKEN = "wa-access-token"
CUSTOMER_WA_ID = "966551234567"


def delivery(value: dict) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "966920000000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def message(
    kind: str, content: dict, *, wamid: str, ts: int, wa_id: str = CUSTOMER_WA_ID, name: str = "نورة"
) -> dict:
    item = {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": kind}
    if kind == "contacts":
        item["contacts"] = content
    else:
        item[kind] = content
    return delivery({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [item]})


def text(body: str, **kw) -> dict:
    return message("text", {"body": body}, **kw)


def voice_note(media_id: str, **kw) -> dict:
    return message(
        "audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": media_id, "voice": True}, **kw
    )


def status(wamid: str, state: str, *, ts: int, error_code: int | None = None) -> dict:
    item = {"id": wamid, "status": state, "timestamp": str(ts), "recipient_id": CUSTOMER_WA_ID}
    if error_code is not None:
        item["errors"] = [{"code": error_code, "title": "Message undeliverable"}]
    return delivery({"statuses": [item]})


def signed(payload: dict, secret: str = APP_SECRET) -> tuple[bytes, dict]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
