"""Staff sign-in through the organisation's OpenID Connect provider."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from helpdesk.auth import sessions, sso
from helpdesk.auth.permissions import sign_in_rate_limit
from helpdesk.refusals import handle_refusals
from helpdesk.transaction import unit_of_work

bp = Blueprint("sso", __name__)


def _refused(message: str):
    return render_template("errors/error.html", code=401, message=message), 401


handle_refusals(bp, _refused)


def _callback_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for("sso.callback")


def _provider_down():
    message = _("The sign-in provider did not answer. Try again in a few minutes, or ask your administrator.")
    return render_template("errors/error.html", code=503, message=message), 503


@bp.get("/staff/login/sso")
def start():
    if not sso.is_enabled():
        abort(404)
    from requests import RequestException  # Authlib's HTTP client, loaded with single sign-on only

    try:
        return sso.client().authorize_redirect(_callback_url())
    except (RequestException, ValueError):
        return _provider_down()


@bp.get("/staff/login/sso/callback")
@sign_in_rate_limit
def callback():
    if not sso.is_enabled():
        abort(404)
    from authlib.common.errors import AuthlibBaseError  # loaded with single sign-on only
    from joserfc.errors import JoseError
    from requests import RequestException

    try:
        token = sso.client().authorize_access_token()
    except RequestException:
        return _provider_down()
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        with unit_of_work():
            sso.note_failure(type(error).__name__, ip=request.remote_addr)
        return _refused(_("Single sign-on did not succeed. Start again from the sign-in page."))
    claims = token.get("userinfo") or {}
    with unit_of_work():  # a refusal is audited: committed too
        outcome = sso.staff_for_claims(claims, ip=request.remote_addr)
        if outcome.user is not None:
            sessions.begin(outcome.user, "sso")
    if outcome.refusal:
        return _refused(outcome.refusal)
    g.signed_in_now = True
    return redirect(url_for("agents.queue"), 303)
