"""Fault injection for the demo switch: the failures a poller must survive.

All settings are plain attributes, changed at runtime (``switch.faults.error_rate = 0.3``).
Decisions come from one RNG seeded at construction and drawn in request order, so a
single-threaded client sees the same faults on every run.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the demo switch does wrong, and how often.

    error_rate: share of API requests answered with a JSON 500 or 503.
    latency_ms: delay added before every API response.
    rate_limit_next: the next N API requests get 429 with ``Retry-After: retry_after_s``.
    drop_next: the next N API responses send headers and part of the body, then close.
    drop_rate: share of API responses dropped that way (after drop_next is used up).
    late_fraction / late_delay_ms: that share of calls is published late_delay_ms after
        the call ended instead of at once, so records appear later inside a window that
        was already polled.
    """

    seed: int = 0
    error_rate: float = 0.0
    latency_ms: int = 0
    rate_limit_next: int = 0
    retry_after_s: int = 1
    drop_next: int = 0
    drop_rate: float = 0.0
    late_fraction: float = 0.0
    late_delay_ms: int = 0
    # What was injected so far, by kind ("error", "rate_limit", "drop", "latency").
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def burst_429(self, n: int, retry_after_s: int = 1) -> None:
        """The next ``n`` API requests are answered 429."""
        with self._lock:
            self.rate_limit_next = n
            self.retry_after_s = retry_after_s

    def drop(self, n: int = 1) -> None:
        """The next ``n`` API responses are cut off mid-body."""
        with self._lock:
            self.drop_next = n

    def reset(self) -> None:
        """Back to a healthy switch (the injection counters are kept)."""
        with self._lock:
            self.error_rate = self.drop_rate = self.late_fraction = 0.0
            self.latency_ms = self.rate_limit_next = self.drop_next = self.late_delay_ms = 0

    def decide(self) -> tuple[str | None, int]:
        """The fault for the next request: (kind or None, detail).

        kind is "rate_limit" (detail = Retry-After seconds), "error" (detail = status)
        or "drop" (detail = 0). Latency is applied separately by the server.
        """
        with self._lock:
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                self.injected["rate_limit"] += 1
                return "rate_limit", self.retry_after_s
            # Always draw both numbers so the sequence does not depend on the settings.
            u_err, u_drop = self._rng.random(), self._rng.random()
            if u_err < self.error_rate:
                self.injected["error"] += 1
                return "error", 500 if self._rng.random() < 0.5 else 503
            if self.drop_next > 0:
                self.drop_next -= 1
                self.injected["drop"] += 1
                return "drop", 0
            if u_drop < self.drop_rate:
                self.injected["drop"] += 1
                return "drop", 0
            return None, 0
