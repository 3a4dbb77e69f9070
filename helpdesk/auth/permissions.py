"""Route guards. Anonymous users go to the right login page; a signed-in user without the role gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

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
