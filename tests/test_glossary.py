"""docs/glossary.md is the word list; the Arabic catalog and the status labels must agree with it."""

import re

from babel.messages.pofile import read_po
from flask_babel import force_locale

from helpdesk.tickets.labels import CUSTOMER_STATUS_LABELS, STATUS_LABELS
from helpdesk.tickets.models import Status
from tests.test_i18n import ROOT

GLOSSARY = ROOT / "docs/glossary.md"


def _rows() -> list[list[str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_catalog_uses_the_glossary_words():
    with open(ROOT / "translations/ar/LC_MESSAGES/messages.po", "rb") as f:
        catalog = {m.id: m.string for m in read_po(f, locale="ar") if isinstance(m.id, str) and m.id}
    words = [row for row in _rows() if row[0] not in ("English", "Code") and not row[0].startswith("`")]
    assert [row[0] for row in words if row[0] not in catalog] == []  # the English column is catalog text
    checked = {row[0]: row[1] for row in words}
    disagree = {
        english: (catalog[english], arabic)
        for english, arabic in checked.items()
        if catalog[english] != arabic
    }
    assert disagree == {}


def test_agents_and_customers_read_the_glossary_status_words(app):
    statuses = {re.sub(r"`", "", row[0]): row for row in _rows() if row[0].startswith("`") and len(row) == 5}
    with app.test_request_context("/"), force_locale("ar"):
        for status in Status:
            _code, agent_en, agent_ar, customer_en, customer_ar = statuses[status.value]
            assert str(STATUS_LABELS[status]) == agent_ar
            assert str(CUSTOMER_STATUS_LABELS[status]) == customer_ar
    with app.test_request_context("/"), force_locale("en"):
        for status in Status:
            _code, agent_en, agent_ar, customer_en, customer_ar = statuses[status.value]
            assert str(STATUS_LABELS[status]) == agent_en
            assert str(CUSTOMER_STATUS_LABELS[status]) == customer_en


def test_order_statuses_read_as_the_glossary_says(app):
    from helpdesk.customers.labels import order_status_label

    rows = [row for row in _rows() if row[0].startswith("`") and len(row) == 3]
    assert rows
    for language, column in (("en", 1), ("ar", 2)):
        with app.test_request_context("/"), force_locale(language):
            assert {row[0].strip("`"): order_status_label(row[0].strip("`")) for row in rows} == {
                row[0].strip("`"): row[column] for row in rows
            }
