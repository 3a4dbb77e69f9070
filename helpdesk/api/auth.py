"""Bearer-token guard for API views: who is calling (``g.api_user``) and what their token allows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_smorest import abort

from helpdesk.api.models import TokenScope
from helpdesk.api.tokens import active_token
from helpdesk.auth.models import Role, StaffUser
from helpdesk.transaction import unit_of_work


def _bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def rate_limit_key() -> str:
    """Each token has its own budget; requests without one share their address's."""
    secret = _bearer_secret()
    if secret:
        return "token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


def api_auth(scope: TokenScope = TokenScope.READ, role: Role = Role.AGENT) -> Callable:
    """Require a live token of an active staff user with ``role``; ``write`` scope for changes.

    Session cookies are ignored: a browser signed in to the UI cannot be used to call the API,
    which is why the API needs no CSRF token.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            secret = _bearer_secret()
            if secret is None:
                abort(401, message="Send an API token in the header 'Authorization: Bearer <token>'.")
            with unit_of_work():  # the token's last use, stamped at most once a minute
                token = active_token(secret)
            if token is None:
                abort(401, message="This API token is unknown, revoked, or its staff account is deactivated.")
            if scope == TokenScope.WRITE and token.scope != TokenScope.WRITE:
                abort(
                    403,
                    message="This token is read-only; create a token with the write scope to make changes.",
                )
            if not token.staff.has_role(role):
                abort(
                    403,
                    message=f"This needs the {role.value} role; its user is a {token.staff.role.value}.",
                )
            g.api_token = token
            g.api_user = token.staff
            return view(*args, **kwargs)

        wrapped.required_role = role  # read by the route-enumerating access tests
        wrapped.api_scope = scope
        return wrapped

    return decorator


def api_user() -> StaffUser:
    return g.api_user
