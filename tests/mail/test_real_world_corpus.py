"""Other projects' test mail (``../shared/email-corpus``, see its SOURCES.md) through the real ingest
path, checked against our own expectations in ``corpus_expectations.py``.

Each message is a test that fails only when ingest raises or the raw bytes are not kept; what the agent sees
(subject, visible text, hidden quote, attachments) is measured per source and check kind by
``test_real_world_corpus_rates``, which prints the table and requires ≥ 97 % of each kind.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import InboundMessage
from helpdesk.mail.parse import html_to_text
from helpdesk.tickets.models import Message
from tests.mail.corpus_expectations import EXPECTATIONS
from tests.mail.own_mail import OWN_MAIL

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "email-corpus"
KINDS = ("ingested", "kept", "subject", "sender", "new", "exact", "hidden", "attachments", "clean")
THRESHOLD = 0.97  # of each check kind, on the shared corpus as a whole and on our own mail
SHARED_TOTAL = "shared corpus"

# name -> list of (kind, passed, detail); filled by test_real_world_message, read by the rates test.
RESULTS: dict[str, list[tuple[str, bool, str]]] = {}

needs_corpus = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared mail corpus is not beside the clone ({SHARED})"
)


def check_message(raw: bytes, expected: dict) -> list[tuple[str, bool, str]]:
    """Ingest one raw message and compare what the helpdesk made of it with ``expected``."""
    checks: list[tuple[str, bool, str]] = []
    result = inbound.ingest(raw)
    row = db.session.get(InboundMessage, result.inbound_id)
    wanted = expected.get("outcome", ("created", "appended"))
    checks.append(("ingested", result.action in wanted, result.error or result.action))
    checks.append(("kept", row is not None and row.raw == raw, "raw bytes stored"))
    message = db.session.get(Message, row.ticket_message_id) if row and row.ticket_message_id else None
    if message is None:
        return checks
    full = _spaced(message.body_text or "")
    stored = full + "\n" + _spaced(html_to_text(message.body_html or ""))
    visible = _spaced(message.display_text) if message.display_text is not None else full
    for piece in [*expected.get("new", []), *expected.get("hidden", []), *expected.get("kept", [])]:
        checks.append(("kept", _spaced(piece) in stored, f"the stored body keeps {piece!r}"))
    if "subject" in expected:
        want = expected["subject"][:255]
        checks.append(("subject", message.ticket.subject == want, f"{message.ticket.subject!r} != {want!r}"))
    if "sender" in expected:
        customer = message.author_customer
        got = (customer.name, customer.email) if customer else None
        checks.append(("sender", got == tuple(expected["sender"]), f"{got!r}"))
    for piece in map(_spaced, expected.get("new", [])):
        checks.append(("new", piece in visible, f"visible lacks {piece!r}: {visible[:300]!r}"))
    if "exact" in expected:
        checks.append(
            ("exact", visible.strip() == _spaced(expected["exact"]), f"visible is {visible[:300]!r}")
        )
    for piece in map(_spaced, expected.get("hidden", [])):
        checks.append(("hidden", piece not in visible, f"visible shows {piece!r}: {visible[:300]!r}"))
    if "attachments" in expected:
        names = [a.filename for a in message.attachments]
        checks.append(("attachments", names == expected["attachments"], f"{names!r}"))
    if expected.get("clean"):
        checks.append(("clean", "\ufffd" not in full, f"replacement characters in {full[:120]!r}"))
    return checks


def _spaced(text: str) -> str:
    """Runs of spaces (no-break spaces too) as one space: clients differ in how they pad text."""
    return re.sub(r"[ \t\u00a0]+", " ", text)


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_real_world_message(app, name):
    raw = (SHARED / name).read_bytes()
    checks = check_message(raw, EXPECTATIONS[name])
    RESULTS[name] = checks
    assert checks[1] == ("kept", True, "raw bytes stored")


@pytest.mark.parametrize("name", sorted(OWN_MAIL))
def test_own_message(app, name):
    raw, expected = OWN_MAIL[name]
    checks = check_message(raw, expected)
    RESULTS[name] = checks
    failed = [f"{kind}: {detail}" for kind, passed, detail in checks if not passed]
    assert not failed, failed


@needs_corpus
def test_corpus_expectations_cover_every_shared_message():
    files = {f"{p.parent.name}/{p.name}" for p in SHARED.glob("*/*.eml")}
    assert files == set(EXPECTATIONS)


@needs_corpus
def test_real_world_corpus_rates(capsys):
    """The per-source table of pass rates per check kind; each kind must reach the threshold."""
    missing = sorted((set(EXPECTATIONS) | set(OWN_MAIL)) - set(RESULTS))
    if missing:
        pytest.skip(f"rates need every corpus message run in this session ({len(missing)} not run)")
    table = rate_table(RESULTS)
    with capsys.disabled():
        print("\n" + format_table(table))
        for name, checks in sorted(RESULTS.items()):
            for kind, passed, detail in checks:
                if not passed:
                    print(f"  FAIL {kind:<11} {name}: {detail}")
    low = {
        f"{row} {kind}": f"{p}/{n}"
        for row in (SHARED_TOTAL, "own")
        for kind, (p, n) in table[row].items()
        if n and p / n < THRESHOLD
    }
    assert not low, f"check kinds under {THRESHOLD:.0%}: {low}"


def rate_table(results: dict[str, list[tuple[str, bool, str]]]) -> dict[str, dict[str, tuple[int, int]]]:
    """(passed, total) per source and check kind, with a row for the shared corpus as a whole."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for name, checks in results.items():
        source = name.split("/", 1)[0]
        rows = (source,) if source == "own" else (source, SHARED_TOTAL)
        for kind, passed, _detail in checks:
            for row in rows:
                table[row][kind][0] += passed
                table[row][kind][1] += 1
    return {row: {kind: tuple(counts) for kind, counts in kinds.items()} for row, kinds in table.items()}


def format_table(table: dict[str, dict[str, tuple[int, int]]]) -> str:
    """A Markdown table: one row per source, one column per check kind, passed/total and percent."""
    kinds = [k for k in KINDS if any(k in row for row in table.values())]
    lines = ["| source | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for source in sorted(table, key=lambda s: (s == "own", s == SHARED_TOTAL, s)):
        cells = []
        for kind in kinds:
            passed, total = table[source].get(kind, (0, 0))
            cells.append(f"{passed}/{total} ({100 * passed / total:.0f} %)" if total else "–")
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
