"""Every count takes the Arabic catalog's six plural forms (zero, one, two, few, many, other)."""

import gettext
import re

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from tests.test_i18n import ROOT

AR = ROOT / "translations/ar/LC_MESSAGES"
FORMS = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 4, "other": 5}


def test_the_catalog_plural_rule_picks_the_cldr_form_for_every_count():
    with open(AR / "messages.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    rule = Locale.parse("ar").plural_form
    wrong = [n for n in range(0, 1200) if compiled.plural(n) != FORMS[rule(n)]]
    assert wrong == []


def test_every_plural_entry_has_its_six_arabic_forms():
    with open(AR / "messages.po", "rb") as f:
        catalog = read_po(f, locale="ar")
    for message in catalog:
        if message.pluralizable and message.id:
            assert len(message.string) == 6 and all(message.string), message.id


def test_no_count_is_written_into_a_singular_sentence():
    """ "237 تقييمات" came from one sentence for every count; a count of things needs ngettext."""
    with open(AR / "messages.po", "rb") as f:
        catalog = read_po(f, locale="ar")
    singular = [m.id for m in catalog if m.id and not m.pluralizable]
    counted = [i for i in singular if re.search(r"%\((count|num|n|total)\)[sd] [a-z]+s\b", i)]
    assert counted == []


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "لا توجد تقييمات"),
        (1, "تقييم واحد"),
        (2, "تقييمين"),
        (3, "3 تقييمات"),
        (237, "237 تقييمًا"),
        (100, "100 تقييم"),
    ],
)
def test_ratings_are_counted_in_proper_arabic(app, count, words):
    with app.test_request_context("/"), force_locale("ar"):
        text = ngettext(
            "Average: %(average)s from %(num)d rating.",
            "Average: %(average)s from %(num)d ratings.",
            count,
            average="4",
        )
    assert words in text


def test_bulk_update_message_counts_tickets(app):
    with app.test_request_context("/"), force_locale("ar"):
        assert ngettext("%(num)d ticket updated.", "%(num)d tickets updated.", 2) == "حُدّثت تذكرتان."
        assert ngettext("%(num)d ticket updated.", "%(num)d tickets updated.", 15) == "حُدّثت 15 تذكرة."
