"""Redis, for what every process on every host must agree on (``HELPDESK_REDIS_URL``).

Today: a generation number of committed ticket changes, which keys each process's copy of the
queue's view counts, so a change made on one node clears the counts on all of them. Without Redis
(the embedded set-up) each process keeps its own copy for ``VIEW_COUNTS_MAX_AGE`` seconds. If
Redis stops answering, callers get ``UNAVAILABLE`` and compute afresh: slower pages, never stale
or failing ones. The client library is imported only when ``REDIS_URL`` is set.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)
UNAVAILABLE = -1
_CLIENT = "helpdesk.redis"
_TIMEOUT_SECONDS = 0.25  # a page waits this long at most for an unreachable Redis


def redis_client() -> Redis | None:
    """This app's Redis connection pool, or None when no ``REDIS_URL`` is set."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get(_CLIENT)
    if client is None:
        from redis import Redis

        client = Redis.from_url(url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS)
        current_app.extensions[_CLIENT] = client
    return client


def _key(name: str) -> str:
    return f"{current_app.config.get('REDIS_KEY_PREFIX', 'helpdesk')}:{name}"


def generation(name: str) -> int | None:
    """The shared counter ``name``: None without Redis, ``UNAVAILABLE`` when Redis fails."""
    client = redis_client()
    if client is None:
        return None
    from redis import RedisError

    try:
        return int(client.get(_key(name)) or 0)
    except RedisError as exc:
        log.warning("Redis did not answer (%s): computing without the shared cache", exc)
        return UNAVAILABLE


def advance(name: str) -> None:
    """Move the shared counter ``name`` on (after a commit that changed what it guards)."""
    client = redis_client()
    if client is None:
        return
    from redis import RedisError

    try:
        client.incr(_key(name))
    except RedisError as exc:
        log.warning("Redis did not answer (%s): other processes keep their counts until they expire", exc)
