"""`make bench`: generate the dataset if needed, time our app and django-helpdesk in the same run,
print a markdown table and write bench/results/<date>.json.

    python -m bench.run                        # everything, 200 requests per operation
    python -m bench.run --requests 50 --no-peer
    python -m bench.run --profile ticket_page  # also a pyinstrument profile of one operation
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from bench.generate import DATA_DIR, Scale, bench_app, default_database_url, ensure_dataset
from bench.ours import profile, run_ours

RESULTS = Path(__file__).resolve().parent / "results"
# Our operation → the peer's closest one (None: django-helpdesk has no such feature).
PEER_EQUIVALENT = {
    "queue_default": ("queue_default", "ticket list page + its datatables JSON (50 rows)"),
    "queue_filtered": ("queue_filtered", "ticket list, open + unassigned, page + JSON"),
    "queue_page50": ("queue_page50", "datatables JSON, offset 2450"),
    "ticket_page": ("ticket_page", "staff ticket view"),
    "portal_cases": ("portal_cases", '"my tickets" page + its JSON'),
    "kb_search_ar": (None, "no KB search in django-helpdesk"),
    "kb_search_en": (None, "no KB search in django-helpdesk"),
    "suggestions": (None, "no live suggestions in django-helpdesk"),
}


def _cell(result: dict | None) -> str:
    if result is None:
        return "—"
    if "skipped" in result:
        return result["skipped"]
    if "error" in result:
        return result["error"]
    cell = f"{result['p50_ms']:.1f} / {result['p95_ms']:.1f}"
    return cell + (f" (n={result['n']})" if "capped" in result else "")


def _ratio(theirs: dict | None, ours: dict | None) -> str:
    if not theirs or not ours or "p50_ms" not in theirs or "p50_ms" not in ours:
        return "—"
    return f"{theirs['p50_ms'] / ours['p50_ms']:.1f}×"


def _row(*cells: object) -> str:
    return "| " + " | ".join("" if c is None else str(c) for c in cells) + " |"


def markdown_table(ours: dict, peer: dict | None) -> str:
    peer = peer or {}
    theirs_in_all, theirs_http_all = peer.get("inprocess", {}), peer.get("gunicorn", {})
    waitress, gunicorn = ours.get("waitress", {}), ours.get("gunicorn", {})
    lines = [
        _row(
            "operation (p50 / p95 ms)",
            "ours in-process",
            "ours waitress",
            "ours gunicorn ×2",
            "django-helpdesk in-process",
            "django-helpdesk gunicorn ×2",
            "ratio in-process",
            "ratio HTTP",
        ),
        _row(*["---"] * 8),
    ]
    for name, label in ours["labels"].items():
        peer_name, peer_note = PEER_EQUIVALENT.get(name, (None, ""))
        theirs_in = theirs_in_all.get(peer_name) if peer_name else None
        theirs_http = theirs_http_all.get(peer_name) if peer_name else None
        ours_in, ours_http = ours["inprocess"].get(name), gunicorn.get(name)
        lines.append(
            _row(
                label,
                _cell(ours_in),
                _cell(waitress.get(name)),
                _cell(ours_http),
                _cell(theirs_in) if peer_name else peer_note,
                _cell(theirs_http) if peer_name else "—",
                _ratio(theirs_in, ours_in),
                _ratio(theirs_http, ours_http),
            )
        )
    extra = {
        "dashboard": "django-helpdesk staff dashboard",
        "kb_category": "django-helpdesk KB category page",
    }
    for name, label in extra.items():
        if name in theirs_in_all:
            lines.append(
                _row(
                    f"{label} (theirs only)",
                    "—",
                    "—",
                    "—",
                    _cell(theirs_in_all[name]),
                    _cell(theirs_http_all.get(name)),
                    "—",
                    "—",
                )
            )
    ingest, peer_ingest = ours.get("ingest", {}), peer.get("ingest", {})
    ours_rate, theirs_rate = ingest.get("messages_per_second"), peer_ingest.get("messages_per_second")
    count = ingest.get("messages") or peer_ingest.get("messages") or "?"
    lines.append(
        _row(
            f"Email ingest, messages/s ({count} .eml)",
            ours_rate or ingest.get("skipped") or ingest.get("error", "—"),
            "",
            "",
            theirs_rate or peer_ingest.get("error", "—"),
            "",
            f"{ours_rate / theirs_rate:.1f}×" if ours_rate and theirs_rate else "—",
            "",
        )
    )
    sla = ours.get("sla_pass", {})
    if "recompute_seconds" in sla:
        lines.append(
            _row(
                f"SLA pass, {sla['open_tickets']:,} open tickets: recompute s; breach check first / steady s",
                f"{sla['recompute_seconds']}; {sla['first_check_seconds']} / {sla['steady_check_seconds']}",
                "",
                "",
                "no SLA engine",
                "",
                "",
                "",
            )
        )
    lines.append(
        _row(
            "Peak RSS of a web process, MB",
            "",
            waitress.get("peak_rss_mb", "—"),
            gunicorn.get("peak_rss_mb", "—"),
            "",
            theirs_http_all.get("peak_rss_mb", "—"),
            "",
            "",
        )
    )
    return "\n".join(lines)


# Search by meaning: (figure key, label, target) — the targets, p95 in ms or MB.
MEANING_FIGURES = (
    ("kb_search_p95_ms", "KB search p95, ms", 25),
    ("live_suggestions_p95_ms", "Live suggestions p95, ms", 30),
    ("similar_tickets_p95_ms", "Similar solved tickets p95, ms (100,000 tickets' vectors)", 50),
    ("suggested_answers_p95_ms", "Suggested answers p95, ms", 50),
    ("rss_mb", "Web process RSS after all of these, MB", 220),
)


def run_search_meaning() -> dict:
    """bench/search_meaning.py in its own process, its instance kept in bench/data (built once)."""
    out = DATA_DIR / "search-meaning.json"
    command = [sys.executable, "-m", "bench.search_meaning", "--instance", str(DATA_DIR / "search-meaning")]
    result = subprocess.run([*command, "--json", str(out)], check=False)
    if result.returncode != 0:
        return {"error": f"bench.search_meaning exited with {result.returncode}"}
    return json.loads(out.read_text())


def meaning_table(figures: dict) -> str:
    if "error" in figures:
        return f"Search by meaning: {figures['error']}"
    lines = [_row("search by meaning", "words only", "words and meaning", "target"), _row(*["---"] * 4)]
    for key, label, target in MEANING_FIGURES:
        lines.append(
            _row(label, figures.get(f"words.{key}", "—"), figures.get(f"both.{key}", "—"), f"≤ {target}")
        )
    lines.append(
        _row(
            "Embedding at reindex, passages/s (articles; tickets)",
            "",
            f"{figures.get('article_passages_per_s', '—')}; {figures.get('ticket_passages_per_s', '—')}",
            "",
        )
    )
    return "\n".join(lines)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


@click.command()
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite file in bench/data/).")
@click.option("--requests", "count", default=200, show_default=True, help="Timed requests per operation.")
@click.option("--no-http", is_flag=True, help="Skip the HTTP runs (waitress, gunicorn).")
@click.option("--no-peer", is_flag=True, help="Skip django-helpdesk.")
@click.option(
    "--profile", "profile_op", default=None, help="Also profile one of our operations (pyinstrument)."
)
@click.option("--no-meaning", is_flag=True, help="Skip search by meaning (bench/search_meaning.py).")
def main(
    database_url: str | None,
    count: int,
    no_http: bool,
    no_peer: bool,
    profile_op: str | None,
    no_meaning: bool,
) -> None:
    """Benchmark our helpdesk against django-helpdesk on the same generated dataset."""
    started = time.perf_counter()
    database_url = database_url or default_database_url()
    report: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine_before": machine()}
    report["dataset"] = ensure_dataset(Scale(), database_url)
    report["ours"] = run_ours(database_url, count=count, http=not no_http)
    (DATA_DIR / "last-ours.json").write_text(json.dumps(report["ours"], indent=2, default=str))
    if profile_op:
        path = profile(bench_app(database_url, DATA_DIR), profile_op, count, RESULTS)
        click.echo(f"Profile of {profile_op}: {path}")
    if not no_peer:
        from bench.peer import run_peer

        try:
            report["peer"] = run_peer(database_url, report["dataset"], count=count, http=not no_http)
        except click.ClickException as error:  # our figures still count; say what went wrong
            click.echo(f"Peer failed: {error.message}", err=True)
            report["peer"] = {"error": error.message}
    if not no_meaning:
        report["search_meaning"] = run_search_meaning()
    report["machine_after"] = machine()
    report["seconds"] = round(time.perf_counter() - started)
    table = markdown_table(report["ours"], report.get("peer"))
    if "search_meaning" in report:
        table += "\n\n" + meaning_table(report["search_meaning"])
    report["table"] = table
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date().isoformat()}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    click.echo("\n" + table + "\n")
    peer_version = report.get("peer", {}).get("version", "?")
    click.echo(
        f"django-helpdesk {peer_version}; {count} requests per operation; ratio = their p50 / our p50 "
        f"(ingest: our rate / theirs). Whole run {report['seconds']} s. Written {out.relative_to(Path.cwd())}"
        if out.is_relative_to(Path.cwd())
        else f"Written {out}"
    )


if __name__ == "__main__":
    sys.exit(main())
