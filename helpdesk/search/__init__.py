"""Full-text search behind a narrow interface, so a search cluster could replace Whoosh later.

from helpdesk import search
results = search.query("articles", "وين طلبي", locale="ar", limit=5, filters={"status": "published"})
for hit in results: hit.id, hit.score, hit.fields["title"], hit.snippet
"""

from helpdesk.search.indexer import apply_pending_jobs, queue_reindex, reindex
from helpdesk.search.querying import Hit, SearchResults, query
from helpdesk.search.registry import IndexSpec, UnknownIndex, register_index

__all__ = [
    "Hit",
    "IndexSpec",
    "SearchResults",
    "UnknownIndex",
    "apply_pending_jobs",
    "query",
    "queue_reindex",
    "register_index",
    "reindex",
]
