"""JSON errors for the API: ``{"code", "status", "message", "errors"?}`` (flask-smorest's Error schema)."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"

# The codes the API answers with its own JSON body (the rest of the app renders HTML pages).
JSON_ERROR_CODES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)


def error_response(error: HTTPException):
    code = error.code or 500
    payload: dict = {"code": code, "status": error.name}
    headers: dict = {}
    data = getattr(error, "data", None) or {}
    if "message" in data:
        payload["message"] = str(data["message"])
    elif code == 500 or isinstance(error, InternalServerError):
        payload["message"] = "Something went wrong on our side; the error was logged."
    elif error.description and error.description != type(error).description:
        payload["message"] = str(error.description)
    else:
        payload["message"] = _DEFAULT_MESSAGES.get(code, error.name)
    errors = data.get("errors") or data.get("messages")
    if errors:
        payload["errors"] = errors
    headers.update(data.get("headers") or {})
    if error.response is not None:  # e.g. the rate limiter's Retry-After
        headers.update(
            {k: v for k, v in error.response.headers.items() if k.lower().startswith(("retry", "x-"))}
        )
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="helpdesk"')
    response = jsonify(payload)
    response.status_code = code
    response.headers.update(headers)
    return response


_DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Send an API token in the header 'Authorization: Bearer <token>'.",
    403: "Your token or role does not allow this.",
    404: "Not found.",
    405: "This method is not allowed on this URL.",
    409: "The resource was changed by someone else; reload it and try again.",
    413: "The request body is too large.",
    415: "Send the request body as application/json.",
    422: "The request was well-formed but some values are invalid.",
    429: "Too many requests; slow down and retry later.",
}


def register_json_errors(blueprint) -> None:
    for code in JSON_ERROR_CODES:
        blueprint.register_error_handler(code, error_response)
