"""``python -m bench.whatsapp`` runs end to end on a small scale and keeps its figures."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bench import whatsapp


def test_the_whatsapp_bench_files_every_delivery_and_saves_its_figures(app, tmp_path, monkeypatch):
    for name in ("WA_TOKEN", "WA_APP_SECRET", "WA_VERIFY"):  # the bench sets them: undone afterwards
        monkeypatch.setenv(name, "")
    saved = tmp_path / "whatsapp.jsonl"
    result = CliRunner().invoke(
        whatsapp.main, ["--messages", "60", "--customers", "7", "--senders", "3", "--save", str(saved)]
    )
    assert result.exit_code == 0, result.output
    assert "| WhatsApp messages filed by the worker | 60 |" in result.output
    record = json.loads(saved.read_text().splitlines()[-1])
    assert record["messages"] == 60 and record["accepted_per_s"] > 0 and record["filed_per_s"] > 0
    assert len(record["load_average"]) == 3
