"""A token bucket per write key: requests per second, with a one-second burst."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """Admit up to ``rate`` requests per second per key; 0 admits everything."""

    MAX_KEYS = 10_000

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > self.MAX_KEYS:
                self._buckets.clear()  # unknown keys must not grow memory without bound
            capacity = max(self.rate, 1.0)
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def retry_after(wait: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
