"""Talking to a platform's API: rate limits respected (429 → wait ``Retry-After``), transient
failures retried with backoff, and a 401 answered by refreshing the store's token once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from helpdesk.dbtypes import utcnow
from helpdesk.integrations.tokens import Tokens
from helpdesk.tickets.errors import DomainError

if TYPE_CHECKING:
    import httpx

MAX_TRIES = 5
LONGEST_WAIT = 60.0


class PlatformDown(DomainError):
    """The platform did not answer usefully after the retries; a sync can be run again to resume."""


class TokenRejected(DomainError):
    """The platform refused the store's tokens even after a refresh: the shop must reconnect."""


def retry_after(response: httpx.Response, attempt: int) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return min(max(float(raw), 0.0), LONGEST_WAIT)
    except ValueError:
        return min(2.0**attempt, LONGEST_WAIT)


def expiry(seconds: object) -> object:
    """``expires_in`` seconds from now as a UTC datetime (None when not given)."""
    try:
        return utcnow() + timedelta(seconds=int(seconds))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class ApiSession:
    """One store's API calls. ``headers_for(tokens)`` builds the platform's auth headers;
    ``refresh(tokens)`` returns new tokens (and saves them)."""

    def __init__(
        self,
        base_url: str,
        tokens: Tokens,
        headers_for: Callable[[Tokens], dict[str, str]],
        refresh: Callable[[Tokens], Tokens],
        *,
        timeout: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        on_refresh: Callable[[], None] | None = None,
    ) -> None:
        self.tokens = tokens
        self._headers_for = headers_for
        self._refresh = refresh
        self._sleep = sleep
        self._on_refresh = on_refresh
        import httpx  # not when a web process starts: with its command line's rich and pygments, 8 MB

        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.waited = 0.0  # seconds spent waiting on rate limits and retries

    def close(self) -> None:
        self.http.close()

    def get_json(self, path: str, params: dict | None = None) -> dict:
        import httpx

        refreshed = False
        for attempt in range(MAX_TRIES):
            try:
                response = self.http.get(path, params=params, headers=self._headers_for(self.tokens))
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                self._wait(min(2.0**attempt * 0.1, LONGEST_WAIT))
                continue
            if response.status_code == 401 and not refreshed:
                self.tokens = self._refresh(self.tokens)
                refreshed = True
                if self._on_refresh:
                    self._on_refresh()
                continue
            if response.status_code == 401:
                raise TokenRejected(
                    "The platform refused the store's token after a refresh; reconnect the store."
                )
            if response.status_code == 429:
                last = "429 Too Many Requests"
                self._wait(retry_after(response, attempt))
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                self._wait(min(2.0**attempt * 0.1, LONGEST_WAIT))
                continue
            if response.status_code >= 400:
                raise PlatformDown(f"HTTP {response.status_code} from {path}: {response.text[:200]}")
            try:
                return response.json()
            except ValueError as exc:
                raise PlatformDown(f"{path} did not answer with JSON") from exc
        raise PlatformDown(f"{path} failed {MAX_TRIES} times ({last})")

    def _wait(self, seconds: float) -> None:
        self.waited += seconds
        self._sleep(seconds)


def post_form(url: str, data: dict, *, timeout: float = 20.0) -> dict:
    """An OAuth token request (form-encoded); errors become ``TokenRejected`` / ``PlatformDown``."""
    import httpx

    try:
        response = httpx.post(url, data=data, timeout=timeout, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise PlatformDown(f"{url}: {type(exc).__name__}") from exc
    if response.status_code in (400, 401, 403):
        raise TokenRejected(f"{url} refused the request (HTTP {response.status_code}).")
    if response.status_code >= 300:
        raise PlatformDown(f"{url}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise PlatformDown(f"{url} did not answer with JSON") from exc


def get_once(url: str, headers: dict[str, str], *, timeout: float = 20.0) -> dict:
    """One authenticated lookup during connecting (who is the store?); failures are ``PlatformDown``."""
    import httpx

    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PlatformDown(f"{url}: {type(exc).__name__}") from exc
    if not isinstance(answer, dict):
        raise PlatformDown(f"{url} did not answer with a JSON object")
    return answer
