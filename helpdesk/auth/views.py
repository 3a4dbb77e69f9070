"""Sign-in and sign-out for staff and customers, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from helpdesk.auth import service, sessions, sso
from helpdesk.auth.forms import LanguageForm, LoginForm
from helpdesk.auth.permissions import sign_in_rate_limit
from helpdesk.auth.security_views import after_password, customer_signed_in
from helpdesk.transaction import unit_of_work

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only follow same-site relative redirects after sign-in (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return default


def _login_page(kind: str):
    form = LoginForm(next=request.args.get("next", ""))
    default_next = url_for("agents.queue") if kind == "staff" else url_for("portal.cases")
    sso_only = kind == "staff" and current_app.config["SSO_ONLY"] and sso.is_enabled()
    if sso_only and request.method == "POST":
        flash(_("Staff sign in with single sign-on only."), "error")
        return render_template("auth/login.html", form=form, kind=kind, sso_only=True), 403
    if form.validate_on_submit():
        authenticate = service.authenticate_staff if kind == "staff" else service.authenticate_customer
        with unit_of_work():
            attempt = authenticate(form.email.data, form.password.data, ip=request.remote_addr)
            user = attempt.user
            if user is not None and session.get("lang") and not user.language:
                user.language = session["lang"]
            if user is not None:
                answer = _after_password(user, form.remember.data, safe_next(form.next.data, default_next))
        if attempt.blocked:
            flash(
                _("Too many failed sign-ins. Wait 15 minutes and try again, or reset your password."), "error"
            )
            return render_template("auth/login.html", form=form, kind=kind), 429
        if user is not None:
            return answer
        flash(_("The email or password is not correct."), "error")
        return render_template("auth/login.html", form=form, kind=kind), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, kind=kind, sso_only=sso_only), status


def _after_password(user, remember: bool, next_url: str):
    """A second step may follow, for staff and customers who turned it on (inside the unit of work)."""
    if user.is_staff:
        return after_password(user, remember=remember, next_url=next_url)
    return customer_signed_in(user, "password", next_url=next_url, remember=remember)


@bp.route("/staff/login", methods=["GET", "POST"])
@sign_in_rate_limit
def staff_login():
    return _login_page("staff")


@bp.route("/login", methods=["GET", "POST"])
@sign_in_rate_limit
def customer_login():
    return _login_page("customer")


@bp.post("/logout")
def logout():
    was_staff = current_user.is_authenticated and current_user.is_staff
    with unit_of_work():
        sessions.end_current()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.staff_login") if was_staff else url_for("portal.home"))


@bp.post("/language")
def set_language():
    """Remember the chosen language: on the account when signed in, in the session otherwise."""
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("Unknown language."), "error")
        return redirect(url_for("portal.home")), 303
    session["lang"] = form.language.data
    if current_user.is_authenticated:
        with unit_of_work():
            current_user.language = form.language.data
    return redirect(safe_next(form.next.data, url_for("portal.home")), 303)
