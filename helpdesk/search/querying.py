"""Turn what a customer typed into a Whoosh query and the results into plain hits.

Per word: its analysed terms in every query field (title boosted over body); the last word, while
the customer is still typing, also as a prefix; a word of five letters or more that the index does
not know is replaced by the closest indexed word ("did you mean").
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh import highlight
from whoosh.query import Or, Prefix, Query, Term

from helpdesk.search import analysis, arrays, pg
from helpdesk.search.backend import uses_postgres
from helpdesk.search.indexer import search_where, searcher
from helpdesk.search.registry import index_spec

FUZZY_MIN_LENGTH = 5
EXPANSION_BOOST = 0.6  # a lexicon word counts less than the customer's own word
SNIPPET_CHARS = pg.SNIPPET_CHARS


@dataclass
class Hit:
    id: str
    score: float
    fields: dict
    snippet: str  # safe HTML: escaped text with <mark> around the matched words


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None  # the query with misspellings corrected, when there were some

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self):
        return iter(self.hits)


def _prefix_forms(word: str) -> set[str]:
    """What an unfinished last word may begin: itself without the article, and its stem."""
    forms = {analysis.strip_article(word)} if analysis.is_arabic(word) else {word}
    forms.update(analysis.word_terms(word))
    return {f for f in forms if len(f) >= 2}


def _known(reader, fields: dict[str, float], terms: list[str]) -> bool:
    return any(reader.doc_frequency(f, t) for f in fields for t in terms)


def build_query(
    index: str,
    text: str,
    *,
    as_you_type: bool = False,
    expand: Callable[[list[str]], dict[int, list[str]]] | None = None,
) -> tuple[Query | None, str | None]:
    """The query for ``text``, and the corrected text when a word was replaced by a known one.

    ``expand(words)`` gives, per word position, more words to accept there (the dialect lexicon);
    a word the lexicon knows is not "corrected" to some other indexed word."""
    spec = index_spec(index)
    reader = searcher(index).reader()
    # Fields the index was built with (one built before a field was added searches the rest).
    fields = {name: boost for name, boost in spec.query_fields.items() if name in reader.schema}
    words = analysis.words(text)
    typing_last = as_you_type and bool(text) and not text[-1].isspace()
    parts: list[Query] = []
    corrected: list[str] = []
    changed = False
    extra = expand(words) if expand else {}
    for position, word in enumerate(words):
        terms = analysis.word_terms(word)
        is_last = position == len(words) - 1
        alternatives: list[Query] = []
        extra_terms = [t for w in extra.get(position, ()) for t in analysis.word_terms(w)]
        if (
            position not in extra
            and terms
            and not _known(reader, fields, terms)
            and len(word) >= FUZZY_MIN_LENGTH
        ):
            better = _closest_word(index, word)
            if better:
                corrected.append(better)
                changed = True
                terms = analysis.word_terms(better) or terms
            else:
                corrected.append(word)
        else:
            corrected.append(word)
        for name, boost in fields.items():
            alternatives += [Term(name, t, boost=boost) for t in terms]
            alternatives += [Term(name, t, boost=boost * EXPANSION_BOOST) for t in extra_terms]
            if is_last and typing_last:
                alternatives += [Prefix(name, p, boost=boost * 0.5) for p in _prefix_forms(word)]
        if alternatives:
            parts.append(Or(alternatives))
    if not parts:
        return None, None
    return Or(parts), " ".join(corrected) if changed else None


def _closest_word(index: str, word: str) -> str | None:
    """The most frequent other indexed word within one edit (two from six letters) that begins
    with the same letter, as Whoosh's ``suggest`` ranks them; of equally frequent words, the
    closest (Whoosh took the last in alphabetical order). An index kept in memory compares the word
    with its words there; Whoosh's own ``suggest`` builds an automaton per word, 5–20 ms in Python."""
    maxdist = analysis.spelling_edits(word)
    current = searcher(index)
    spelling = arrays.spelling_words(current) if index_spec(index).kept_in_memory else None
    if spelling is None:
        found = current.suggest("words", word, limit=1, maxdist=maxdist, prefix=1)
        return found[0] if found else None
    words, frequencies = spelling.get(word[:1], ((), ()))
    near = process.extract(word, words, scorer=Levenshtein.distance, score_cutoff=maxdist, limit=None)
    near = [found for found in near if found[1] > 0]  # the word itself corrects nothing
    if not near:
        return None
    return min(near, key=lambda found: (-frequencies[found[2]], found[1], found[0]))[0]


def query(
    index: str,
    text: str,
    locale: str | None = None,
    limit: int = 10,
    filters: dict[str, str] | None = None,
    *,
    as_you_type: bool = False,
) -> SearchResults:
    """Search ``index``. ``filters`` are exact matches on ID fields (e.g. ``{"status": "published"}``)."""
    if uses_postgres():
        return pg.query(index, text, locale, limit, filters, as_you_type=as_you_type)
    spec = index_spec(index)
    built, suggestion = build_query(index, text, as_you_type=as_you_type)
    if built is None:
        return SearchResults()
    conditions = dict(filters or {})
    if locale:
        conditions["locale"] = locale
    results = search_where(index, built, max(1, limit), conditions)
    if results is None:
        return SearchResults(suggestion=suggestion)
    results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
    results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    texts = spec.snippet_texts([r["id"] for r in results]) if spec.snippet_texts else None
    hits = []
    for result in results:
        stored = result.fields()
        text = spec.snippet_source(stored, texts)
        snippet = result.highlights(spec.snippet_field, text=text, top=2) or html.escape(_shorten(text))
        hits.append(
            Hit(
                id=stored["id"],
                score=round(result.score, 4),
                fields=stored,
                snippet=nh3.clean(snippet, tags={"mark"}, attributes={}),
            )
        )
    return SearchResults(hits=hits, suggestion=suggestion)


_shorten = pg.shorten  # the start of a text when no words matched (hybrid.py uses it too)
