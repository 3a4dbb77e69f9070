"""Choose the fusion weights on the development half of the held-out queries (never the test half).

    .venv/bin/python -m tests.kb.tune_fusion            # development half, and the grid
    .venv/bin/python -m tests.kb.tune_fusion --cv       # the same, cross-validated (see below)
    .venv/bin/python -m tests.kb.tune_fusion --test     # the test half's figures, nothing else
    .venv/bin/python -m tests.kb.tune_fusion --cv --queries=tests/kb/search_quality_dev2.jsonl
    .venv/bin/python -m tests.kb.tune_fusion --write-phrasings

Loads the demo articles into a throw-away instance, collects both sides' candidates per query
once, then scores a grid of ``hybrid.Fusion`` settings; prints the best few with their figures.

The demo articles' phrasings ("other ways customers ask") are the 76 queries of
``search_quality_queries.jsonl``, every question of the development half and the second writer's
(``search_quality_dev2.jsonl``), each on the article it expects; ``--write-phrasings`` writes them
into ``helpdesk/demo/content/kb_articles.jsonl``
(``demo_phrasings`` says exactly which). The test half never becomes a phrasing (the held-out test
checks). Since the development questions are then phrasings, measuring on them would measure a
lookup: ``--cv`` splits the development questions into ``FOLDS`` parts by a hash of the question
and, for each part, searches it with the phrasings of the other parts only. Measure the second
writer's questions with ``--cv`` too (without it, they would find their own phrasings).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from helpdesk import create_app, search
from helpdesk.demo.loader import CONTENT
from helpdesk.extensions import db
from helpdesk.schema import upgrade_schema
from helpdesk.search import hybrid
from tests.kb.quality import figures, load_demo_articles, rank_of, read_queries, report, split_heldout

FOLDS = 4


def demo_phrasings() -> dict[str, list[str]]:
    """Article slug → its phrasings: the 76 queries first, then the development half's questions,
    then the second writer's (the test half's never: 5 of the 76 are test questions too, and are
    left out — compared here, never shown)."""
    dev, test = split_heldout(read_queries("search_quality_heldout.jsonl"))
    tested = {c["query"].casefold() for c in test}
    out: dict[str, list[str]] = {}
    second = read_queries("search_quality_dev2.jsonl")
    for case in [*read_queries("search_quality_queries.jsonl"), *dev, *second]:
        if case["query"].casefold() in tested:
            continue
        found = out.setdefault(case["expected"], [])
        if case["query"].casefold() not in {p.casefold() for p in found}:
            found.append(case["query"])
    return out


def write_demo_phrasings() -> None:
    path = CONTENT / "kb_articles.jsonl"
    phrasings = demo_phrasings()
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        record["phrasings"] = phrasings.get(record["slug"], [])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"{sum(map(len, phrasings.values()))} phrasings on {len(phrasings)} articles written to {path}")


def fold_of(case: dict) -> int:
    return int(hashlib.sha256(case["query"].encode()).hexdigest(), 16) % FOLDS


def collect_cross_validated(cases: list[dict], original: list[dict], **options) -> tuple[list, list]:
    """Signals of ``cases`` (and of the 76 queries), each fold searched while the articles hold
    every phrasing but that fold's questions; in the order of ``cases``."""
    from helpdesk.kb.models import Article

    articles = list(db.session.scalars(db.select(Article)))
    full = {a.id: list(a.phrasings or []) for a in articles}
    found: dict[int, hybrid.Signals] = {}
    original_found: list[list[hybrid.Signals]] = []
    for fold in range(FOLDS):
        held = {c["query"].casefold() for c in cases if fold_of(c) == fold}
        for article in articles:
            article.phrasings = [p for p in full[article.id] if p.casefold() not in held]
        db.session.commit()
        search.reindex()
        at = [i for i, c in enumerate(cases) if fold_of(c) == fold]
        for i, signal in zip(at, collect([cases[i] for i in at], **options), strict=True):
            found[i] = signal
        original_found.append(collect(original, **options))
    for article in articles:
        article.phrasings = full[article.id]
    db.session.commit()
    search.reindex()
    # The 76 queries are phrasings in every fold: the last fold's signals stand for them.
    return [found[i] for i in range(len(cases))], original_found[-1]


def collect(
    cases: list[dict], *, expand: bool = True, fusion: hybrid.Fusion = hybrid.FUSION
) -> list[hybrid.Signals]:
    return [
        hybrid.signals(
            "articles", c["query"], c["locale"], {"status": "published"}, expand=expand, fusion=fusion
        )
        for c in cases
    ]


def ranks_for(
    cases, found, slug_of, fusion: hybrid.Fusion | Callable[[str], hybrid.Fusion] | None
) -> list[int | None]:
    """Each case's rank by ``fusion`` (one for all, or chosen by the case's language; None: words
    only)."""
    ranks = []
    for case, signal in zip(cases, found, strict=True):
        if fusion is None:
            ranked = sorted(signal.lexical.items(), key=lambda item: -item[1])
        else:
            chosen = fusion if isinstance(fusion, hybrid.Fusion) else fusion(case["locale"])
            ranked = hybrid.fused(
                signal.lexical, signal.meaning, chosen, signal.other_language, signal.questions
            )
        ranks.append(rank_of(case["expected"], [slug_of[d] for d, _s in ranked[:10]]))
    return ranks


def _option(name: str) -> str | None:
    """``--name=value`` from the command line."""
    return next((a.split("=", 1)[1] for a in sys.argv if a.startswith(f"--{name}=")), None)


def main() -> None:
    if "--write-phrasings" in sys.argv:
        write_demo_phrasings()
        return
    from helpdesk.kb import search_index

    if _option("phrasings-as"):  # query, passage or titled: how phrasings are embedded
        search_index.PHRASINGS_EMBEDDED_AS = _option("phrasings-as")
    if _option("phrasings-boost"):  # the words of phrasings (0: not searched)
        boost = float(_option("phrasings-boost"))
        search_index.ARTICLES.query_fields.pop("phrasings")
        if boost:
            search_index.ARTICLES.query_fields["phrasings"] = boost
    if "--no-phrasings" in sys.argv:  # the articles as they were before phrasings
        search_index.PHRASINGS_EMBEDDED_AS = "none"
        search_index.ARTICLES.query_fields.pop("phrasings")
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "tune",
                "INSTANCE_PATH": str(instance),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'helpdesk.db'}",
            }
        )
        with app.app_context():
            upgrade_schema()
            load_demo_articles()
            from helpdesk.kb.models import Article

            slug_of = {str(a.id): a.slug for a in db.session.scalars(db.select(Article))}
            dev, test = split_heldout(read_queries("search_quality_heldout.jsonl"))
            cases = test if "--test" in sys.argv else dev
            if _option("queries") and "--test" not in sys.argv:  # another development set
                extra = read_queries(Path(_option("queries")).resolve())
                # With --cv, both development sets (each fold leaves out its own questions' phrasings).
                cases = [*dev, *extra] if "--cv" in sys.argv else extra
            original = read_queries("search_quality_queries.jsonl")
            cv = "--cv" in sys.argv and "--test" not in sys.argv

            def gather(**options) -> tuple[list, list]:
                if cv:
                    return collect_cross_validated(cases, original, **options)
                return collect(cases, **options), collect(original, **options)

            if cv:
                print(f"cross-validated: {FOLDS} folds of the development half")
            plain, _ = gather(expand=False)
            report(cases, ranks_for(cases, plain, slug_of, None), "before: lexical only, no lexicon")
            found, original_found = gather()
            report(cases, ranks_for(cases, found, slug_of, None), "lexical with the lexicon")
            dense_only = hybrid.Fusion(lexical_weight=0.0, dense_only_min=-1)
            report(cases, ranks_for(cases, found, slug_of, dense_only), "dense only")
            ranks = ranks_for(cases, found, slug_of, hybrid.fusion_for)
            report(cases, ranks, f"current {hybrid.FUSION}, and for {hybrid.FUSIONS}")
            if "--misses" in sys.argv:
                for case, rank in zip(cases, ranks, strict=True):
                    if rank is None or rank > 3:
                        print("  miss", rank, case["locale"], case["kind"], case["query"], case["expected"])
            if "--test" in sys.argv or "--no-grid" in sys.argv:
                return
            results = []
            # The query's vector with and without the lexicon's words: two sets of signals.
            signals_by_embed = {hybrid.FUSION.embed_lexicon_words: (found, original_found)}
            plain_vector = hybrid.Fusion(embed_lexicon_words=not hybrid.FUSION.embed_lexicon_words)
            signals_by_embed[plain_vector.embed_lexicon_words] = gather(fusion=plain_vector)
            settings = [
                {"lexical_half": half, "dense_low": low, "dense_high": high, "dense_width": None}
                for half in (None, 4.0, 10.0)
                for low, high in ((0.70, 0.88), (0.74, 0.88), (0.78, 0.9))
            ] + [
                {"lexical_half": half, "dense_width": width}
                for half in (None, 4.0, 10.0)
                for width in (0.03, 0.05, 0.08, 0.12)
            ]

            def score(fusion: hybrid.Fusion) -> tuple[float, dict] | None:
                found_now, original_now = signals_by_embed[fusion.embed_lexicon_words]
                ranks = ranks_for(cases, found_now, slug_of, fusion)
                kept = ranks_for(original, original_now, slug_of, fusion)
                if any(r is None or r > 3 for r in kept):
                    return None  # the 76 queries the search was written against stay in the top 3
                per = {
                    loc: figures([r for c, r in zip(cases, ranks, strict=True) if c["locale"] == loc])
                    for loc in ("ar", "en")
                }
                # The weaker language's recall@3 first, then ranking quality, then a higher floor.
                key = (
                    min(per["ar"]["recall@3"], per["en"]["recall@3"])
                    + 0.25 * (per["ar"]["recall@3"] + per["en"]["recall@3"])
                    + 0.25 * (per["ar"]["MRR"] + per["en"]["MRR"])
                    + 0.01 * fusion.dense_only_min
                )
                return key, per

            for weight, floor, other, embed, setting in itertools.product(
                (0.3, 0.4, 0.5, 0.6, 0.7), (0.80, 0.82, 0.84), (0.0, 0.5, 1.0), (True, False), settings
            ):
                fusion = hybrid.Fusion(
                    lexical_weight=weight,
                    dense_only_min=floor,
                    other_language_weight=other,
                    embed_lexicon_words=embed,
                    **setting,
                )
                scored = score(fusion)
                if scored is not None:
                    results.append((scored[0], fusion, scored[1]))
            # Then the phrasings' scaling, around the best few settings.
            results.sort(key=lambda r: -r[0])
            for _key, best, _per in results[:5]:
                for low, width, only, added in itertools.product(
                    (1.0, 1.5, 2.0, 2.5, 3.0), (1.0, 2.0, 3.0), (3.5, 99.0), (0.0, 0.1, 0.2, 0.3, 0.5)
                ):
                    fusion = dataclasses.replace(
                        best,
                        question_low=low,
                        question_high=low + width,
                        question_only_min=only,
                        question_weight=added,
                    )
                    scored = score(fusion)
                    if scored is not None:
                        results.append((scored[0], fusion, scored[1]))
            results.sort(key=lambda r: -r[0])
            for key, fusion, per in results[:10]:
                print(
                    f"{key:.3f} {fusion} ar R@3={per['ar']['recall@3']:.3f} MRR={per['ar']['MRR']:.3f}"
                    f" en R@3={per['en']['recall@3']:.3f} MRR={per['en']['MRR']:.3f}"
                )
            # Each language may have settings of its own (``hybrid.FUSIONS``): its best few alone.
            for locale in ("ar", "en"):
                print(f"\nbest for {locale} alone:")
                results.sort(key=lambda r: -(r[2][locale]["recall@3"] + 0.5 * r[2][locale]["MRR"]))
                for _key, fusion, per in results[:5]:
                    print(f"  {fusion} R@3={per[locale]['recall@3']:.3f} MRR={per[locale]['MRR']:.3f}")


if __name__ == "__main__":
    main()
