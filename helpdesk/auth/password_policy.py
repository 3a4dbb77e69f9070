"""What a new password must be (OWASP ASVS 4.0.3, level 2, items 2.1.1–2.1.9).

At least 12 characters, up to 200, any characters, and no rules about digits or capitals (they make
passwords harder to remember, not to guess). A password that people have used before is refused:
zxcvbn ships the 30,000 most common passwords from public breaches and estimates how many guesses a
password takes from its dictionaries of words, names, keyboard patterns, dates and repeats. Both are
read from the installed package, offline; no password is sent anywhere.

The policy applies to passwords people choose (forms and services that set one). The demo data's
accounts keep their known password, set by the seeding code directly.

zxcvbn's lists take about 13 MiB: they are loaded at the first password chosen, not when a web
process starts (most processes never see one).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 200
# zxcvbn's score 2 is "somewhat guessable": more than 10^6 guesses. Below that (0, 1) the password
# is a common one, a word with a digit or two, a keyboard walk or a repeat.
MIN_SCORE = 2
ESTIMATE_CHARS = 72  # zxcvbn estimates at most 72 characters (its default limit); those decide


@cache
def _breached() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str, user_inputs: Iterable[str] = ()) -> bool:
    """True for a password in the breached list, or one guessed in under a million tries (the
    account's own name and address count as known words)."""
    if password.lower() in _breached():
        return True
    from zxcvbn import zxcvbn

    words = [word for value in user_inputs if value for word in _words_of(value)]
    return zxcvbn(password[:ESTIMATE_CHARS], user_inputs=words)["score"] < MIN_SCORE


def _words_of(value: str) -> list[str]:
    """An address's parts are known words too: "sara.ali@shop.sa" gives sara.ali, sara, ali, shop."""
    value = value.lower()
    parts = value.replace("@", " ").replace(".", " ").replace("-", " ").replace("_", " ").split()
    return [value, value.split("@")[0], *parts]


def problem_with(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be used, in the reader's language; None when it may."""
    # The numbers are written into the sentences: Arabic words a count of 12 and of 200 differently.
    if len(password) < MIN_LENGTH:
        return _("Use at least 12 characters.")
    if len(password) > MAX_LENGTH:
        return _("Use at most 200 characters.")
    if is_common(password, user_inputs):
        return _(
            "This password is too common or too easy to guess. Try a few unrelated words, for "
            "example a short sentence only you would write."
        )
    return None
