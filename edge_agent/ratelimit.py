"""The bound on how fast an agent publishes events (issue 20, item 5): a token bucket, time as an input.

mosquitto has no per-client rate limit, so each agent bounds itself: one device's burst (a replay after a
long outage, a `resync` that resends thousands of events, a bug that loops) must not fill the controller's
queue ahead of the other devices' events. Owns the arithmetic only; the outbox decides what to send.
"""

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """At most `rate` sends per second on average, and up to `burst` at once after a quiet spell."""

    rate: float
    burst: int
    _tokens: float = field(init=False)
    _at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._tokens = float(self.burst)

    def available(self, now: float) -> int:
        """How many sends are allowed at monotonic time `now` (seconds)."""
        if self._at is not None and now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now if self._at is None else max(self._at, now)
        return int(self._tokens + 1e-9)  # 0.1 s × 50/s is 4.9999… in floating point

    def take(self, count: int) -> None:
        """Spend `count` sends (at most what `available` returned)."""
        self._tokens -= count
