"""Timing primitives shared by our harness and the peer's: percentiles, a request loop, and a
process memory sampler. Only the standard library, so the peer's venv can import it too."""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile of the samples (share between 0 and 1)."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(samples_ms: list[float]) -> dict:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 0.50), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
    }


def time_requests(
    call: Callable[[int], int],
    count: int,
    warmup: int = 5,
    budget_seconds: float | None = None,
    *,
    keep_samples: bool = False,
) -> dict:
    """Run ``call(i)`` (which returns an HTTP status) ``count`` times after a warm-up; stop with an
    error entry at the first non-200 answer. With a budget, stop early once it is spent (at least
    ``min_samples``) and say so: a page taking seconds cannot be sampled 200 times in a 20-minute run."""
    min_samples = 5
    started = time.perf_counter()
    for i in range(warmup):
        status = call(i)
        if status != 200:
            return {"error": f"HTTP {status}"}
        if budget_seconds is not None and time.perf_counter() - started > budget_seconds / 4:
            break  # slow enough: one warm-up request is enough
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        start = time.perf_counter()
        status = call(i)
        samples.append((time.perf_counter() - start) * 1000)
        if status != 200:
            return {"error": f"HTTP {status}"}
        over = budget_seconds is not None and time.perf_counter() - started > budget_seconds
        if over and len(samples) >= min_samples:
            capped = {**summary(samples), "capped": f"time budget {budget_seconds:.0f} s"}
            return {**capped, "samples": samples} if keep_samples else capped
    return {**summary(samples), "samples": samples} if keep_samples else summary(samples)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child_pids(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class PeakMemory:
    """Samples the RSS of a server process and its children (gunicorn workers) in a thread; the peak
    of the largest single process is what a web process needs."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in [self.pid, *child_pids(self.pid)]:
                with contextlib.suppress(OSError):
                    self.peak = max(self.peak, rss_bytes(pid))
            time.sleep(self.every)

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)
