"""Customer sign-in without a password, sign-up, password reset and guest cases (all by emailed link)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from helpdesk.auth import links, notices, sessions
from helpdesk.auth.forms import ConfirmLinkForm, EmailOnlyForm, GuestCaseForm, NewPasswordForm, SignUpForm
from helpdesk.auth.models import TokenPurpose
from helpdesk.auth.permissions import sign_in_rate_limit
from helpdesk.auth.security_views import customer_signed_in
from helpdesk.kb.case_form import DRAFT_KEY
from helpdesk.refusals import handle_refusals
from helpdesk.transaction import unit_of_work

bp = Blueprint("signin", __name__)


def _check_your_email():
    return render_template("auth/check_email.html")


def _invalid(message: str):
    """A used, expired or forged link (``links.InvalidLink``), or a lost race for the same link."""
    return render_template("auth/link_invalid.html", message=message), 400


handle_refusals(bp, _invalid)


def _form_page(template: str, form, **context):
    status = 400 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


@bp.route("/login/link", methods=["GET", "POST"])
@sign_in_rate_limit
def request_link():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        with unit_of_work():
            links.request_sign_in_link(form.email.data)
        return _check_your_email()
    return _form_page("auth/email_form.html", form, heading=_("Email me a sign-in link"))


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@sign_in_rate_limit
def magic_link(token: str):
    form = ConfirmLinkForm()
    if form.validate_on_submit():
        with unit_of_work():
            customer = links.sign_in_with_link(token)
            answer = customer_signed_in(customer, "link", next_url=url_for("portal.cases"), status=303)
        return answer
    links.peek(TokenPurpose.SIGN_IN, token)
    return render_template("auth/confirm_link.html", form=form, action=_("Sign in"))


@bp.route("/signup", methods=["GET", "POST"])
@sign_in_rate_limit
def sign_up():
    form = SignUpForm()
    if form.validate_on_submit():
        with unit_of_work():
            links.request_sign_up(form.name.data, form.email.data, form.password.data)
        return _check_your_email()
    return _form_page("auth/sign_up.html", form)


@bp.route("/verify/<token>", methods=["GET", "POST"])
@sign_in_rate_limit
def verify(token: str):
    form = ConfirmLinkForm()
    if form.validate_on_submit():
        with unit_of_work():
            customer, ticket = links.verify_email(token)
            sessions.begin(customer, "link")
        if ticket is not None:
            flash(_("Your case %(number)s has been opened.", number=ticket.number), "success")
            return redirect(url_for("portal.case", number=ticket.number), 303)
        flash(_("Your email address is confirmed. Welcome!"), "success")
        return redirect(url_for("portal.cases"), 303)
    links.peek(TokenPurpose.VERIFY_EMAIL, token)
    return render_template("auth/confirm_link.html", form=form, action=_("Confirm my email address"))


@bp.route("/password/reset", methods=["GET", "POST"])
@sign_in_rate_limit
def forgot_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        with unit_of_work():
            links.request_password_reset(form.email.data)
        return _check_your_email()
    return _form_page("auth/email_form.html", form, heading=_("Forgot your password?"))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@sign_in_rate_limit
def reset_password(token: str):
    form = NewPasswordForm()
    if form.validate_on_submit():
        with unit_of_work():
            customer = links.reset_password(token, form.password.data)
            sessions.end_all(customer, actor=customer, ip=request.remote_addr, reason="password_changed")
            notices.notify(customer, notices.Change.PASSWORD_CHANGED, ip=request.remote_addr)
            answer = customer_signed_in(customer, "link", next_url=url_for("portal.cases"), status=303)
        flash(_("Your password has been changed."), "success")
        return answer
    links.peek(TokenPurpose.RESET_PASSWORD, token)
    return _form_page("auth/reset_password.html", form)


@bp.route("/portal/guest", methods=["GET", "POST"])
@sign_in_rate_limit
def guest_case():
    """Open a case without an account: it is sent once the email address is confirmed."""
    draft = session.get(DRAFT_KEY) or {}
    form = GuestCaseForm(data=None if request.method == "POST" else draft)
    if form.validate_on_submit():
        with unit_of_work():
            links.request_guest_case(form.name.data, form.email.data, form.subject.data, form.body.data)
        session.pop(DRAFT_KEY, None)
        return _check_your_email()
    return _form_page("auth/guest_case.html", form)
