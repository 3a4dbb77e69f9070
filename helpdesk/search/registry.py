"""The indexes the app keeps, by name. A feature registers its own from its index-definition module
(``helpdesk/kb/search_index.py`` registers "articles", ``helpdesk/tickets/search_index.py``
"tickets"); ``helpdesk.wiring`` imports those modules when the app is created. This module imports
no feature."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from whoosh.fields import Schema


@dataclass(frozen=True)
class IndexSpec:
    name: str
    schema: Callable[[], Schema]  # must have a unique, stored ``id`` field and the ``words`` field
    model: type  # the SQLAlchemy model whose rows are the documents
    document: Callable[[Any], dict | None]  # row → fields, or None to keep it out of the index
    query_fields: dict[str, float]  # searched fields and their boosts (title over body)
    snippet_field: str  # the field whose text the highlighted snippet comes from
    # Changing any of these attributes re-indexes the row (a view counter does not).
    watched_attributes: frozenset[str] = field(default_factory=frozenset)
    all_rows: Callable[[], Iterable[Any]] | None = None  # for ``helpdesk reindex``; default: every row
    # Doc ids → snippet text, read from the database, for an index that does not store its long text
    # (default: the stored ``snippet_field``).
    snippet_texts: Callable[[list[str]], dict[str, str]] | None = None
    # Stored fields → the snippet's text (default: the stored ``snippet_field`` as it is).
    snippet_text: Callable[[dict], str] | None = None
    # Searchers keep its terms' scores and its words in memory (``arrays.py``, "did you mean"),
    # built once per version of the index: for one people edit (articles, macros), not one written
    # at every message (tickets), whose every new version would build them again.
    kept_in_memory: bool = False

    def snippet_source(self, stored: dict, texts: dict[str, str] | None) -> str:
        """The text a hit's snippet is cut from (``texts``: what ``snippet_texts`` read, if any)."""
        if texts is not None:
            return texts.get(stored["id"], "")
        if self.snippet_text is not None:
            return self.snippet_text(stored)
        return stored.get(self.snippet_field, "")


_INDEXES: dict[str, IndexSpec] = {}


class UnknownIndex(LookupError):
    pass


def register_index(spec: IndexSpec) -> IndexSpec:
    _INDEXES[spec.name] = spec
    return spec


def index_spec(name: str) -> IndexSpec:
    try:
        return _INDEXES[name]
    except KeyError:
        raise UnknownIndex(f"no search index named {name!r}") from None


def all_indexes() -> list[IndexSpec]:
    return list(_INDEXES.values())
