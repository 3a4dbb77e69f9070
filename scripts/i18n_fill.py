"""Fill Arabic translations from a JSON object {"English msgid": "Arabic text"} and list what is missing.

Usage: make i18n-extract && .venv/bin/python scripts/i18n_fill.py new.json && make setup
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parents[1] / "translations/ar/LC_MESSAGES/messages.po"


def main(argv: list[str]) -> int:
    mapping: dict[str, str] = {}
    for name in argv:
        mapping.update(json.loads(Path(name).read_text(encoding="utf-8")))
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="ar")
    for message in catalog:
        if message.id and message.id in mapping:
            message.string = mapping[message.id]
            message.flags.discard("fuzzy")
    with CATALOG.open("wb") as f:
        write_po(f, catalog, width=0, no_location=True, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(json.dumps({"missing": missing}, ensure_ascii=False, indent=1))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
