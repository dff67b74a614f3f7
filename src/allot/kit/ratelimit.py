"""Token buckets per API key: `rate` requests a second on average, bursts up to `burst`.

Each process keeps its own buckets (no shared state to consult on every
request), so N API processes allow up to N x the rate; run one process per
core and divide the configured rate accordingly when that matters.

    >>> bucket = Buckets(rate=2, burst=2)
    >>> [bucket.take("key", now=0.0) for _ in range(3)]
    [0.0, 0.0, 0.5]
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}


def parse_rate(spec: str) -> float:
    """'1000/s', '600/min' → requests per second; '0' or 'off' → no limit (0)."""
    if spec.strip().lower() in ("0", "off", "none"):
        return 0.0
    match = _SPEC.match(spec.lower())
    if match is None:
        raise ValueError(f"rate limit {spec!r} is not like '1000/s' or '600/min'")
    return float(match.group(1)) / _SECONDS[match.group(2)]


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    def __init__(self, *, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, *, now: float) -> float:
        """Take one token: 0.0 if allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
