"""Staff sign-in security in the browser: an agent sets up an authenticator app and signs in with a
code; a deactivated agent's open session stops working at once. Screenshots of the new pages (ar/en,
desktop and phone) go to HELPDESK_SCREENSHOTS or a temporary folder."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyotp
import pytest

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, sign_in, use_language


@pytest.fixture
def new_agent(live_server):
    """A fresh agent on the live server (the demo's agents stay as the other journeys expect)."""
    from helpdesk.auth.models import Role
    from helpdesk.extensions import db
    from tests.factories import make_staff

    app = live_server.app()
    with app.app_context():
        agent = make_staff(Role.AGENT, email=f"twostep{time.time_ns()}@demo.test")
        agent.set_password(PASSWORD)  # the demo's password, which sign_in() types
        db.session.commit()
        email = agent.email
        db.engine.dispose()
    return email


def shoot(page, name: str) -> None:
    folder = Path(os.environ.get("HELPDESK_SCREENSHOTS", "/tmp/helpdesk-screens"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_an_agent_sets_up_an_authenticator_and_signs_in_with_a_code(new_page, new_agent):
    page = new_page("en")
    sign_in(page, new_agent, staff=True)
    page.click("a.user-name")
    assert page.url.endswith("/account/security")
    page.click("main a[href$='/account/security/authenticator']")
    page.click("button:has-text('Set up an authenticator app')")
    assert page.locator(".qr-code svg").is_visible()
    secret = page.locator(".totp-secret").inner_text().strip()
    shoot(page, "totp-setup-en-desktop")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Turn on two-step sign-in')")
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    shoot(page, "recovery-codes-en-desktop")
    page.click("text=I have saved them")
    page.click("form[action$='/logout'] button")

    page.goto("/staff/login")
    page.fill("input[name=email]", new_agent)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    assert page.url.endswith("/staff/login/code")
    shoot(page, "second-step-en-desktop")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))  # the next step: fresh
    page.click("button:has-text('Verify')")
    assert re.search(r"/agent", page.url)
    page.goto("/account/security")
    assert page.locator("text=Password and authenticator app").is_visible()


@pytest.mark.parametrize("locale", ["ar", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_the_security_pages(new_page, locale, viewport):
    page = new_page(locale, viewport)
    sign_in(page, "admin@demo.test", staff=True)
    use_language(page, locale)
    size = "phone" if viewport == PHONE else "desktop"
    for path, name in [
        ("/account/security", "account"),
        ("/account/security/authenticator", "authenticator"),
        ("/admin/security", "admin"),
    ]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        shoot(page, f"{name}-{locale}-{size}")


def test_a_deactivated_agent_is_signed_out_at_once(new_page, new_agent):
    agent = new_page("en")
    sign_in(agent, new_agent, staff=True)
    admin = new_page("en")
    sign_in(admin, "admin@demo.test", staff=True)
    admin.goto("/admin")
    row = admin.locator("tr", has_text=new_agent)
    row.locator("form[action$='/active'] button").click()
    agent.goto("/agent")
    assert "/staff/login" in agent.url


def virtual_authenticator(page) -> None:
    """Chromium's virtual authenticator (DevTools protocol): a platform passkey store that verifies
    the user at once, as a fingerprint reader would."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_an_agent_adds_a_passkey_and_signs_in_with_it(new_page, new_agent, live_server):
    site = live_server.url.replace("127.0.0.1", "localhost")  # WebAuthn needs a domain, not an IP
    page = new_page("en")
    virtual_authenticator(page)

    def password_step() -> None:
        page.goto(f"{site}/staff/login")
        page.fill("input[name=email]", new_agent)
        page.fill("input[name=password]", PASSWORD)
        page.click("form:has(input[name=password]) button[type=submit]")

    password_step()
    page.goto(f"{site}/account/security")
    page.fill("#passkey-name", "Work laptop")
    with page.expect_navigation():
        page.click("button[data-passkey=add]")
    assert page.locator(".passkey-list", has_text="Work laptop").is_visible()
    shoot(page, "passkeys-en-desktop")
    page.click("form[action$='/logout'] button")

    # Without a password: the passkey alone.
    page.goto(f"{site}/staff/login")
    with page.expect_navigation():
        page.click("button[data-passkey=sign-in]")
    assert page.url.startswith(f"{site}/agent")
    page.click("form[action$='/logout'] button")

    # After the password, the passkey is the second step.
    password_step()
    assert page.url.endswith("/staff/login/code")
    with page.expect_navigation():
        page.click("button[data-passkey=sign-in]")
    assert page.url.startswith(f"{site}/agent")
    page.goto(f"{site}/account/security")
    assert page.locator("td", has_text="Passkey").first.is_visible()
