"""Two-step sign-in pages (the code after the password, forced enrolment), the staff member's own
sign-in security page (authenticator app, recovery codes, sessions) and the administrator's rules."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.auth import passkeys, service, sessions, sso, twofactor
from helpdesk.auth.devices import device_label
from helpdesk.auth.forms import ChangePasswordForm, CodeForm, PlainForm, TwoFactorRolesForm
from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.permissions import customer_required, sign_in_rate_limit, staff_required
from helpdesk.customers.models import Customer
from helpdesk.extensions import db, limiter
from helpdesk.refusals import (
    handle_refusals,
    refused_goes_back_to,
    refused_shows_again,
    show_again_when_refused,
)
from helpdesk.transaction import unit_of_work

bp = Blueprint("security", __name__)
PENDING_KEY = sessions.PENDING_KEY
PENDING_SECONDS = 600  # the code must follow the password within ten minutes


def _refused(message: str):
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


@bp.after_app_request
def _note_last_seen(response):
    """After any page of the signed-in user: "last seen" at most once a minute, its own commit."""
    if g.pop("session_seen_due", False):
        with unit_of_work():
            sessions.write_last_seen()
    return response


# --- the password was right: what comes next --------------------------------------------------


def after_password(user: StaffUser, *, remember: bool, next_url: str):
    """The staff login's answer once the password is right: the code page, enrolment when the
    administrator requires 2FA of this role, or signed in. Runs inside the login's unit of work."""
    g.signed_in_now = True  # a right password never counts against the address's sign-in budget
    second_step = user.has_totp or passkeys.has_passkey(user)
    if second_step or twofactor.is_required_for(user):
        _remember_pending(user, remember=remember, next_url=next_url)
        return redirect(url_for("security.second_step" if second_step else "security.enrol"), 303)
    sessions.begin(user, "password", remember=remember)
    return redirect(next_url)


def customer_signed_in(
    customer: Customer, method: str, *, next_url: str, remember: bool = False, status: int = 302
):
    """A customer's password, emailed link or reset link was right: signed in, or first the code
    from their authenticator app when they turned it on. Runs inside the caller's unit of work."""
    if customer.has_totp:
        g.signed_in_now = True
        _remember_pending(customer, remember=remember, next_url=next_url)
        return redirect(url_for("security.customer_second_step"), 303)
    sessions.begin(customer, method, remember=remember)
    return redirect(next_url, status)


def _remember_pending(user, *, remember: bool, next_url: str) -> None:
    session[PENDING_KEY] = {
        "uid": user.id,
        "kind": "staff" if user.is_staff else "customer",
        "at": int(time.time()),
        "remember": bool(remember),
        "next": next_url,
    }


def _pending_user(kind: str = "staff") -> StaffUser | Customer | None:
    """Whose first step was right on this browser, in the last ten minutes (staff or customer)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    if pending.get("kind", "staff") != kind:
        return None
    model = StaffUser if kind == "staff" else Customer
    user = db.session.get(model, pending.get("uid") or 0)
    return user if user is not None and user.is_active else None


def _start_again(kind: str = "staff"):
    session.pop(PENDING_KEY, None)
    flash(_("Your sign-in has expired. Enter your email and password again."), "error")
    return redirect(url_for("auth.staff_login" if kind == "staff" else "auth.customer_login"), 303)


def _finish_pending(user: StaffUser | Customer, method: str) -> str:
    pending = session.get(PENDING_KEY) or {}
    sessions.begin(user, method, remember=pending.get("remember", False))
    return pending.get("next") or url_for("agents.queue" if user.is_staff else "portal.cases")


def _second_step_limit() -> str:
    return current_app.config["SECOND_STEP_RATE_LIMIT"]


second_step_rate_limit = limiter.shared_limit(
    _second_step_limit,
    scope="second-step",
    methods=["POST"],
    error_message=lambda: _("Too many attempts from your network. Wait a few minutes and try again."),
    deduct_when=lambda response: not g.get("signed_in_now", False),
)


@bp.route("/staff/login/code", methods=["GET", "POST"])
@second_step_rate_limit
def second_step():
    return _code_step("staff")


@bp.route("/login/code", methods=["GET", "POST"])
@second_step_rate_limit
def customer_second_step():
    """A customer's code after their password or emailed link (when they turned two-step on)."""
    return _code_step("customer")


def _code_step(kind: str):
    user = _pending_user(kind)
    if user is None:
        return _start_again(kind)
    form = CodeForm()

    def again():
        return render_template("auth/second_step.html", form=form), 401

    if form.validate_on_submit():
        with unit_of_work():  # a refusal is audited and counted: committed too
            outcome = twofactor.verify_second_step(user, form.code.data, ip=request.remote_addr)
            target = _finish_pending(user, outcome.method) if outcome.method else None
        if outcome.refusal:
            form.code.errors = [outcome.refusal]
            return _second_step_page(user, form, 401)
        g.signed_in_now = True
        if outcome.method == "recovery_code":
            left = twofactor.unused_recovery_codes(user)
            flash(_("You used a recovery code. Codes left: %(count)s.", count=left), "info")
        return redirect(target, 303)
    return _second_step_page(user, form, 400 if request.method == "POST" else 200)


def _second_step_page(user: StaffUser | Customer, form: CodeForm, status: int):
    has_passkey = user.is_staff and passkeys.has_passkey(user)
    start_again = url_for("auth.staff_login" if user.is_staff else "auth.customer_login")
    return render_template(
        "auth/second_step.html", form=form, has_passkey=has_passkey, start_again=start_again
    ), status


def _setup_page(user: StaffUser | Customer, *, forced: bool, form: CodeForm | None = None, status: int = 200):
    secret = twofactor.pending_secret(user)
    uri = twofactor.provisioning_uri(user, secret) if secret else None
    return render_template(
        "auth/totp_setup.html",
        forced=forced,
        secret=secret,
        qr=twofactor.qr_svg(uri) if uri else None,
        form=form or CodeForm(),
        start_form=PlainForm(),
    ), status


def _setup(user: StaffUser | Customer, *, forced: bool, done_endpoint: str):
    """The setup page's three requests: show, start (new secret), confirm (first code)."""
    if request.method == "GET":
        return _setup_page(user, forced=forced)
    if request.form.get("action") == "start":
        if not PlainForm().validate_on_submit():
            abort(400, description=_("The form was incomplete."))
        refused_goes_back_to(request.endpoint)
        with unit_of_work():
            twofactor.start_enrolment(user)
        return redirect(url_for(request.endpoint), 303)
    form = CodeForm()
    if not form.validate_on_submit():
        return _setup_page(user, forced=forced, form=form, status=400)
    refused_shows_again(lambda: _setup_page(user, forced=forced, form=form, status=400), form.code)
    with unit_of_work():
        codes = twofactor.confirm_enrolment(user, form.code.data, ip=request.remote_addr)
        continue_to = _finish_pending(user, "totp") if forced else url_for(done_endpoint)
    if forced:
        g.signed_in_now = True
    return render_template("auth/recovery_codes.html", codes=codes, continue_to=continue_to)


@bp.route("/staff/login/setup", methods=["GET", "POST"])
@second_step_rate_limit
def enrol():
    """After the password, when the administrator requires 2FA and this user has none yet."""
    user = _pending_user()
    if user is None or user.has_totp or passkeys.has_passkey(user):
        return _start_again()
    return _setup(user, forced=True, done_endpoint="agents.queue")


# --- the staff member's own page -----------------------------------------------------------------


def _session_rows(user) -> list[dict]:
    current = sessions.current_token_hash()
    return [
        {
            "record": record,
            "device": device_label(record.user_agent),
            "current": record.token_hash == current,
        }
        for record in sessions.active_sessions(user)
    ]


def _staff_uses_passwords() -> bool:
    return bool(current_user.password_hash) and not (current_app.config["SSO_ONLY"] and sso.is_enabled())


@bp.get("/account/security")
@staff_required(Role.AGENT)
def account():
    return _account_page()


def _account_page(password_form: ChangePasswordForm | None = None, status: int = 200):
    return render_template(
        "auth/security.html",
        passkey_list=passkeys.passkeys_of(current_user),
        required=twofactor.is_required_for(current_user),
        recovery_left=twofactor.unused_recovery_codes(current_user) if current_user.has_totp else 0,
        session_rows=_session_rows(current_user),
        form=PlainForm(),
        code_form=CodeForm(),
        password_form=(password_form or ChangePasswordForm()) if _staff_uses_passwords() else None,
        password_action=url_for("security.change_password"),
    ), status


def change_password_view(render_again, back_to: str):
    """The account page's password change, for staff and customers: on success every other session
    of the user ends and they are told by email; a refusal shows the form again, with the reason."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_again(form, 400)
    with unit_of_work():  # a wrong current password is audited and counted: committed too
        refusal = service.change_password(
            current_user, form.current_password.data, form.password.data, ip=request.remote_addr
        )
    if refusal:
        form.current_password.errors = [refusal]
        return render_again(form, 400)
    flash(_("Your password has been changed. You are signed out everywhere else."), "success")
    return redirect(url_for(back_to), 303)


@bp.post("/account/password")
@staff_required(Role.AGENT)
@sign_in_rate_limit
def change_password():
    if not _staff_uses_passwords():
        abort(403)
    return change_password_view(_account_page, "security.account")


@bp.route("/account/security/authenticator", methods=["GET", "POST"])
@staff_required(Role.AGENT)
def authenticator():
    if current_user.has_totp:
        return redirect(url_for("security.account"))
    return _setup(current_user, forced=False, done_endpoint="security.account")


@bp.post("/account/security/authenticator/off")
@staff_required(Role.AGENT)
def authenticator_off():
    return _turn_off(back_to="security.account")


def _turn_off(back_to: str):
    """Turning two-step sign-in off needs a current code (or a recovery code): proof of the phone."""
    form = CodeForm()
    if not form.validate_on_submit():
        abort(400, description=_("Enter a current code from your authenticator app."))
    refused_goes_back_to(back_to)
    if twofactor.is_required_for(current_user):
        raise twofactor.TwoFactorError(_("Your administrator requires two-step sign-in for your role."))
    with unit_of_work():
        twofactor.check_current_code(current_user, form.code.data)
        twofactor.disable(current_user, actor=current_user, ip=request.remote_addr, reason="by_user")
    flash(_("Two-step sign-in is off."), "success")
    return redirect(url_for(back_to), 303)


@bp.post("/account/security/recovery-codes")
@staff_required(Role.AGENT)
def recovery_codes():
    return _new_recovery_codes(back_to="security.account")


def _new_recovery_codes(back_to: str):
    if not PlainForm().validate_on_submit() or not current_user.has_totp:
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        codes = twofactor.new_recovery_codes(current_user, ip=request.remote_addr)
    return render_template("auth/recovery_codes.html", codes=codes, continue_to=url_for(back_to))


def _end_own_session(session_id: int, back_to: str):
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        ended = sessions.end_one(current_user, session_id, actor=current_user, ip=request.remote_addr)
    if not ended:
        abort(404, description=_("That session has already ended."))
    flash(_("The session has ended."), "success")
    return redirect(url_for(back_to), 303)


def _end_own_other_sessions(back_to: str):
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        count = sessions.end_all(
            current_user, actor=current_user, ip=request.remote_addr, reason="by_user", keep_current=True
        )
    flash(_("Sessions ended: %(count)s.", count=count), "success")
    return redirect(url_for(back_to), 303)


@bp.post("/account/sessions/<int:session_id>/end")
@staff_required(Role.AGENT)
def end_session(session_id: int):
    return _end_own_session(session_id, "security.account")


@bp.post("/account/sessions/end-others")
@staff_required(Role.AGENT)
def end_other_sessions():
    return _end_own_other_sessions("security.account")


@bp.get("/portal/account")
@customer_required
def customer_account():
    return _customer_account_page()


def _customer_account_page(password_form: ChangePasswordForm | None = None, status: int = 200):
    """The customer's sign-in security: password and two-step sign-in (for those who have a
    password), sessions."""
    has_password = bool(current_user.password_hash)
    return render_template(
        "auth/customer_account.html",
        session_rows=_session_rows(current_user),
        form=PlainForm(),
        code_form=CodeForm(),
        password_form=(password_form or ChangePasswordForm()) if has_password else None,
        password_action=url_for("security.change_customer_password"),
        recovery_left=twofactor.unused_recovery_codes(current_user) if current_user.has_totp else 0,
    ), status


@bp.route("/portal/account/authenticator", methods=["GET", "POST"])
@customer_required
def customer_authenticator():
    if current_user.has_totp:
        return redirect(url_for("security.customer_account"))
    return _setup(current_user, forced=False, done_endpoint="security.customer_account")


@bp.post("/portal/account/authenticator/off")
@customer_required
def customer_authenticator_off():
    return _turn_off(back_to="security.customer_account")


@bp.post("/portal/account/recovery-codes")
@customer_required
def customer_recovery_codes():
    return _new_recovery_codes(back_to="security.customer_account")


@bp.get("/portal/sessions")
@customer_required
def customer_sessions():
    """The page's old address (its sessions are now part of the account page)."""
    return redirect(url_for("security.customer_account"), 301)


@bp.post("/portal/account/password")
@customer_required
@sign_in_rate_limit
def change_customer_password():
    if not current_user.password_hash:
        abort(403)
    return change_password_view(_customer_account_page, "security.customer_account")


@bp.post("/portal/sessions/<int:session_id>/end")
@customer_required
def end_customer_session(session_id: int):
    return _end_own_session(session_id, "security.customer_account")


@bp.post("/portal/sessions/end-others")
@customer_required
def end_other_customer_sessions():
    return _end_own_other_sessions("security.customer_account")


# --- administration --------------------------------------------------------------------------------


@bp.route("/admin/security", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def settings():
    required = twofactor.required_roles()
    form = TwoFactorRolesForm(data={role.value: role in required for role in Role})
    if form.validate_on_submit():
        roles = {role for role in Role if form[role.value].data}
        with unit_of_work():
            signed_out = twofactor.set_required_roles(roles, actor=current_user, ip=request.remote_addr)
        flash(
            _("Saved. Staff signed out to set up two-step sign-in: %(count)s.", count=signed_out), "success"
        )
        return redirect(url_for("security.settings"), 303)
    staff = db.session.scalars(
        db.select(StaffUser).order_by(StaffUser.is_active.desc(), StaffUser.email)
    ).all()
    return render_template(
        "admin/security.html",
        form=form,
        staff=staff,
        with_passkeys=passkeys.staff_with_passkeys(),
        action_form=PlainForm(),
    ), 400 if request.method == "POST" else 200


@bp.post("/admin/staff/<int:staff_id>/sessions/end")
@staff_required(Role.ADMIN)
def admin_end_sessions(staff_id: int):
    user = db.session.get(StaffUser, staff_id) or abort(404)
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        count = sessions.end_all(user, actor=current_user, ip=request.remote_addr, reason="by_admin")
    flash(_("Sessions ended for %(name)s: %(count)s.", name=user.name, count=count), "success")
    return redirect(url_for("security.settings"), 303)


@bp.post("/admin/staff/<int:staff_id>/two-factor/reset")
@staff_required(Role.ADMIN)
def admin_reset_two_factor(staff_id: int):
    user = db.session.get(StaffUser, staff_id) or abort(404)
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        twofactor.disable(user, actor=current_user, ip=request.remote_addr, reason="reset_by_admin")
        passkeys.remove_all(user, actor=current_user, ip=request.remote_addr)
        sessions.end_all(user, actor=current_user, ip=request.remote_addr, reason="two_factor_reset")
    flash(_("%(name)s will set up two-step sign-in again.", name=user.name), "success")
    return redirect(url_for("security.settings"), 303)


@bp.post("/admin/customers/<int:customer_id>/two-factor/reset")
@staff_required(Role.ADMIN)
def admin_reset_customer_two_factor(customer_id: int):
    """For a customer who lost both phone and recovery codes (their identity checked by support):
    two-step sign-in off, every session ended, the customer emailed."""
    customer = db.session.get(Customer, customer_id) or abort(404)
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        twofactor.disable(customer, actor=current_user, ip=request.remote_addr, reason="reset_by_admin")
        sessions.end_all(customer, actor=current_user, ip=request.remote_addr, reason="two_factor_reset")
    flash(_("%(name)s can sign in with their password alone again.", name=customer.name), "success")
    return redirect(url_for("admin.customer", customer_id=customer_id), 303)


# --- passkeys --------------------------------------------------------------------------------------

CHALLENGE_KEY = "passkey_challenge"


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description=_("The form was incomplete."))
    return body


def _options_response(options_json: str, challenge: str):
    session[CHALLENGE_KEY] = challenge
    return current_app.response_class(options_json, mimetype="application/json")


@bp.post("/account/security/passkeys/options")
@staff_required(Role.AGENT)
def passkey_registration_options():
    return _options_response(*passkeys.registration_options(current_user))


@bp.post("/account/security/passkeys")
@staff_required(Role.AGENT)
def add_passkey():
    body = _json_body()
    challenge = session.pop(CHALLENGE_KEY, None) or abort(400, description=_("Start again."))
    show_again_when_refused(lambda message: (jsonify(error=message), 400))
    with unit_of_work():
        passkeys.register(
            current_user,
            body.get("credential") or {},
            challenge,
            body.get("name", ""),
            ip=request.remote_addr,
        )
    flash(_("Your passkey has been added."), "success")
    return jsonify(next=url_for("security.account"))


@bp.post("/account/security/passkeys/<int:passkey_id>/remove")
@staff_required(Role.AGENT)
def remove_passkey(passkey_id: int):
    if not PlainForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        removed = passkeys.remove(current_user, passkey_id, ip=request.remote_addr)
    if not removed:
        abort(404)
    flash(_("The passkey has been removed."), "success")
    return redirect(url_for("security.account"), 303)


@bp.post("/staff/login/passkey/options")
@second_step_rate_limit
def passkey_sign_in_options():
    """After a right password: this user's passkeys. Without one: any passkey of this site."""
    return _options_response(*passkeys.authentication_options(_pending_user("staff")))


@bp.post("/staff/login/passkey")
@second_step_rate_limit
def passkey_sign_in():
    body = _json_body()
    challenge = session.pop(CHALLENGE_KEY, None)
    if not challenge:
        return jsonify(error=_("Start again.")), 400
    pending = _pending_user("staff")
    with unit_of_work():  # a refusal is audited: committed too
        outcome = passkeys.authenticate(
            body.get("credential") or {}, challenge, only=pending, ip=request.remote_addr
        )
        if outcome.user is not None:
            target = (
                _finish_pending(outcome.user, "passkey") if pending else _begin_passwordless(outcome.user)
            )
    if outcome.refusal:
        return jsonify(error=outcome.refusal), 401
    g.signed_in_now = True
    return jsonify(next=target)


def _begin_passwordless(user: StaffUser) -> str:
    sessions.begin(user, "passkey")
    return url_for("agents.queue")
