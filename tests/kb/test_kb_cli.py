"""``helpdesk kb import|export|search`` and ``helpdesk reindex``."""

import json

from helpdesk.kb.models import Article


def test_import_search_export_and_reindex(app, tmp_path):
    runner = app.test_cli_runner()
    source = tmp_path / "kb.jsonl"
    source.write_text(
        json.dumps(
            {
                "slug": "cod",
                "locale": "ar",
                "title": "الدفع عند الاستلام",
                "body": "ادفع للمندوب نقداً",
                "category": "payments",
                "tags": ["كاش"],
                "translation_of": None,
                "status": "published",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["kb", "import", str(source)])
    assert result.exit_code == 0 and "1 created" in result.output
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "articles: 1 documents indexed" in result.output
    result = runner.invoke(args=["kb", "search", "الدفع كاش", "--locale", "ar", "--json"])
    assert json.loads(result.stdout)[0]["slug"] == "cod"
    result = runner.invoke(args=["kb", "export"])
    assert json.loads(result.stdout.splitlines()[0])["slug"] == "cod"
    assert Article.query.count() == 1


def test_bad_import_file_and_unknown_index_fail_cleanly(app, tmp_path):
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    result = runner.invoke(args=["kb", "import", str(bad)])
    assert result.exit_code == 1 and "nothing imported" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["reindex", "nope"])
    assert result.exit_code == 1 and "no search index named 'nope'" in result.output
