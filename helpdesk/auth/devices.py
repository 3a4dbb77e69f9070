"""A readable name for the browser and system in a User-Agent header ("Firefox on Windows")."""

from __future__ import annotations

import re

from flask_babel import gettext as _

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = [
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|HeadlessChrome/"),
    ("Safari", r"Safari/"),
]
_SYSTEMS = [
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
]


def _first(table: list[tuple[str, str]], agent: str) -> str | None:
    return next((name for name, pattern in table if re.search(pattern, agent)), None)


def device_label(user_agent: str | None) -> str:
    agent = user_agent or ""
    browser, system = _first(_BROWSERS, agent), _first(_SYSTEMS, agent)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown device")


def sign_in_method_label(method: str) -> str:
    labels = {
        "password": _("Password"),
        "totp": _("Password and authenticator app"),
        "recovery_code": _("Password and recovery code"),
        "link": _("Emailed link"),
        "sso": _("Single sign-on"),
        "passkey": _("Passkey"),
    }
    return labels.get(method, method)
