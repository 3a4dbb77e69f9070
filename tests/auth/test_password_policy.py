"""The new-password policy (OWASP ASVS 2.1): 12 to 200 characters, any characters, no composition
rules, breached and easily guessed passwords refused from zxcvbn's offline lists; and the forms
where people choose a password (sign-up, reset link, a new staff member, the account page) apply it."""

import pytest
from sqlalchemy import select

from helpdesk.auth import links, password_policy
from helpdesk.auth.models import Role, StaffUser, TokenPurpose
from helpdesk.demo.loader import DEMO_PASSWORD
from helpdesk.extensions import db
from tests.factories import make_customer, make_staff


@pytest.mark.parametrize(
    "password",
    [
        "saffron kettle over the dunes",
        "x7#Lq9!vR2@m",  # twelve characters: the minimum
        "ورد الطائف في الربيع",  # Arabic, spaces: any printable Unicode
        "a" * 3 + "lantern harbour granite " * 7,  # 171 characters: long passphrases are welcome
    ],
)
def test_long_uncommon_passwords_of_any_characters_are_accepted(app, password):
    with app.test_request_context():
        assert password_policy.problem_with(password) is None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab3$efgh", "at least 12"),  # composition does not make up for length
        ("x" * 201, "at most 200"),
        (DEMO_PASSWORD, "at least 12"),  # the demo's password is for seeded accounts only
        ("password1234", "too common"),  # in the breached list
        ("qwertyuiop12", "too common"),  # a keyboard walk
        ("aaaaaaaaaaaaaaaa", "too common"),  # a repeat
        ("iloveyou2024", "too common"),
    ],
)
def test_short_breached_and_guessable_passwords_are_refused(app, password, reason):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert reason in password_policy.problem_with(password)


def test_the_breached_list_comes_from_the_installed_package_not_the_repository(app):
    assert len(password_policy._breached()) == 30000
    assert "password" in password_policy._breached()
    assert password_policy.is_common("PASSWORD1") and not password_policy.is_common("lantern harbour")


def test_the_account_name_and_address_count_as_guessable_words(app):
    with app.test_request_context():
        assert password_policy.problem_with("sara.alharbi1") is None
        assert password_policy.problem_with("sara.alharbi1", ["Sara Alharbi", "sara.alharbi@shop.sa"])


def test_sign_up_and_a_reset_link_refuse_a_common_password(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = client.submit(
        "/signup", {"name": "Noura", "email": "noura@example.test", "password": "password1234"}
    )
    assert refused.status_code == 400 and "too common" in refused.get_data(as_text=True)
    customer = make_customer()
    with app.test_request_context():
        token = links.issue(TokenPurpose.RESET_PASSWORD, customer.email)
        db.session.commit()
    short = client.submit(f"/password/reset/{token}", {"password": "short one"})
    assert short.status_code == 400 and "Use at least 12 characters." in short.get_data(as_text=True)
    assert (
        client.submit(f"/password/reset/{token}", {"password": "lantern harbour granite"}).status_code == 303
    )


def test_an_administrator_cannot_give_a_new_staff_member_a_common_password(client, login):
    login(make_staff(Role.ADMIN, language="en"))
    form = {"new-name": "Noura", "new-email": "noura@staff.test", "new-role": "agent", "new-language": "ar"}
    refused = client.submit(
        "/admin/staff", {**form, "new-password": "welcome12345", "new-confirm": "welcome12345"}
    )
    assert refused.status_code == 400 and "too common" in refused.get_data(as_text=True)
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "noura@staff.test")) is None
