"""Whatever is typed into a search box gives sensible results or none, never an error."""

from helpdesk.kb import service
from helpdesk.search import embeddings
from tests.kb.quality import load_demo_articles

ODD_QUERIES = [
    "",
    "   \t\n ",
    "\u064e\u064f\u0650\u0651\u0652",  # tashkeel alone
    "🙂🚚📦",
    "؟؟؟ !!! ...",
    "x" * 10_000,
    "طلبي " * 2_000,
    "order \u202bما وصل\u202c \u200fوين\u200e؟",  # embedding and direction marks
    "\x00\x07 refund",
    "كيف اتتبع شحنتي " + "🙂" * 500,
]


def test_odd_queries_never_fail_in_any_search_box_and_nothing_finds_nothing(client):
    load_demo_articles()  # once: embedding the demo articles takes seconds
    for text in ODD_QUERIES:
        for locale in ("ar", "en", None):
            for as_you_type in (False, True):
                service.search_articles(text, locale=locale, as_you_type=as_you_type)
        assert client.get("/kb/search", query_string={"q": text, "format": "json"}).status_code == 200
        assert client.get("/kb/suggest", query_string={"subject": text, "body": text}).status_code == 200
    for text in ["", "   ", "\u064e\u064f\u0650", "🙂🚚📦"]:
        assert service.search_articles(text, locale="ar").hits == []
    hits = service.search_articles("\u200forder \u202bما وصل\u202c", locale="ar").hits
    assert hits, "a query with direction marks found nothing"


def test_over_long_text_is_cut_to_the_models_limit():
    assert embeddings.is_available()
    model = embeddings._model()
    for text in ["x" * 10_000, "طلبي " * 2_000, "refund " * 3_000]:
        cut = embeddings.truncate(text, embeddings.QUERY_MAX_TOKENS, is_query=True)
        assert 0 < model.token_count(cut, True) <= embeddings.QUERY_MAX_TOKENS
        cut = embeddings.truncate(text, embeddings.MODEL_MAX_TOKENS, is_query=False)
        assert 0 < model.token_count(cut, False) <= embeddings.MODEL_MAX_TOKENS
    assert embeddings.embed_query("refund " * 3_000).shape == (embeddings.DIMENSIONS,)
