"""Shared by the search-quality tests and the fusion tuner: the query sets, the dev/test split,
the demo articles, and recall@1, recall@3 and MRR."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

from helpdesk import search
from helpdesk.demo.loader import CONTENT
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Category

HERE = Path(__file__).parent


def read_queries(name: str | Path) -> list[dict]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def split_heldout(queries: list[dict]) -> tuple[list[dict], list[dict]]:
    """(dev, test): within each language and kind, ordered by a hash of the query, alternately —
    deterministic, about half each, every kind on both sides."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for case in queries:
        groups[case["locale"], case["kind"]].append(case)
    dev, test = [], []
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda c: hashlib.sha256(c["query"].encode()).hexdigest())
        for position, case in enumerate(ordered):
            (dev if position % 2 == 0 else test).append(case)
    return dev, test


def load_demo_articles() -> None:
    for position, data in enumerate(json.loads((CONTENT / "categories.json").read_text(encoding="utf-8"))):
        db.session.add(Category(position=position, **data))
    db.session.commit()
    service.import_articles((CONTENT / "kb_articles.jsonl").read_text(encoding="utf-8").splitlines())
    search.reindex()


def rank_of(expected: str, slugs: list[str]) -> int | None:
    return slugs.index(expected) + 1 if expected in slugs else None


def figures(ranks: list[int | None]) -> dict[str, float]:
    n = max(1, len(ranks))
    return {
        "n": len(ranks),
        "recall@1": sum(r == 1 for r in ranks) / n,
        "recall@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "MRR": sum(1 / r for r in ranks if r) / n,
    }


def report(cases: list[dict], ranks: list[int | None], title: str) -> dict[str, dict[str, float]]:
    """Figures per language, per kind and per language+kind; printed (``pytest -s`` shows them)."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for case, rank in zip(cases, ranks, strict=True):
        groups[case["locale"]].append(rank)
        if "kind" in case:
            groups[f"kind={case['kind']}"].append(rank)
            groups[f"{case['locale']}/{case['kind']}"].append(rank)
    out = {name: figures(found) for name, found in sorted(groups.items())}
    print(f"\n{title}")
    for name, f in out.items():
        print(
            f"  {name:<16} n={f['n']:>3} R@1={f['recall@1']:.3f} R@3={f['recall@3']:.3f} MRR={f['MRR']:.3f}"
        )
    return out
