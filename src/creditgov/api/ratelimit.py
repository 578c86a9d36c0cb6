"""A per-client sliding-window rate limit for the public side (公示查询), so nobody can
page through the county's firms by script. In-process: one server process holds
the counters, which is what `creditgov serve` runs."""

from __future__ import annotations

import os
import threading
import time
from collections import deque

from fastapi import Request

from creditgov.core.errors import CreditGovError


class RateLimited(CreditGovError):
    """Too many requests: HTTP 429 with Retry-After."""

    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many public queries: try again in {retry_after} s")
        self.retry_after = retry_after


def parse_rate(text: str) -> tuple[int, float]:
    """'30/60' → 30 requests per 60 seconds."""
    n, _, per = text.partition("/")
    return int(n), float(per or 60)


class SlidingWindow:
    def __init__(self, limit: int, per_seconds: float) -> None:
        self.limit, self.per = limit, per_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.per:
                q.popleft()
            if len(q) >= self.limit:
                raise RateLimited(max(1, int(q[0] + self.per - now + 0.999)))
            q.append(now)
            if len(self._hits) > 50_000:  # forget idle clients rather than grow without bound
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.per][:25_000]:
                    self._hits.pop(k, None)


def from_env() -> SlidingWindow:
    return SlidingWindow(*parse_rate(os.environ.get("CREDITGOV_PUBLIC_RATE", "60/60")))


def public_rate(request: Request) -> None:
    """Dependency for every public route."""
    client = request.client.host if request.client else "unknown"
    request.app.state.public_limiter.hit(client)
