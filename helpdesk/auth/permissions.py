"""Route guards. Anonymous users go to the right login page; a signed-in user without the role gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from helpdesk.auth.models import Role


def _to_login(endpoint: str):
    return redirect(url_for(endpoint, next=request.full_path.rstrip("?")))


def staff_required(role: Role = Role.AGENT) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login("auth.staff_login")
            if not current_user.is_staff or not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # read by the route-enumerating access tests
        return wrapped

    return decorator


def may_open(endpoint: str) -> bool:
    """Whether the signed-in staff user passes the route's role guard (navigation shows only these)."""
    role = getattr(current_app.view_functions.get(endpoint), "required_role", None)
    if role is None:
        return True
    return current_user.is_authenticated and current_user.is_staff and current_user.has_role(role)


def kb_editor_required(view: Callable) -> Callable:
    """Staff who may write help articles: supervisors and admins, and agents given the right."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not current_user.may_edit_kb:
            abort(403)
        return view(*args, **kwargs)

    return staff_required(Role.AGENT)(checked)


def customer_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login("auth.customer_login")
        if not current_user.is_customer:
            abort(403)
        return view(*args, **kwargs)

    wrapped.customer_only = True
    return wrapped


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _too_many_requests_message() -> str:
    return _("Too many attempts from your network. Wait a few minutes and try again.")


@user_logged_in.connect
def _note_sign_in(app: Flask, user: object, **extra: object) -> None:
    g.signed_in_now = True


def _is_failed_attempt(response: Response) -> bool:
    """Whatever did not sign someone in: a wrong password, a bad link, a reset or sign-up request."""
    return not g.get("signed_in_now", False)


def sign_in_rate_limit(view):
    """Per client address, one budget shared by the sign-in, sign-up, reset and sign-in-link forms
    (POSTs only), so switching forms does not buy more attempts. Only attempts that sign nobody in
    count: a whole team behind one office address signs in at shift start, and is never locked out
    by its own successes. The counters live where HELPDESK_RATELIMIT_STORAGE_URI says (memory of
    this process by default; Redis to share them between web processes)."""
    from helpdesk.extensions import limiter

    return limiter.shared_limit(
        _sign_in_limit,
        scope="sign-in",
        methods=["POST"],
        error_message=_too_many_requests_message,
        deduct_when=_is_failed_attempt,
    )(view)
