"""The Clock port: where the agent gets the time and how it waits. Production uses the system clock.

Owns nothing else; tests pass a clock that is also the real time (they open windows a few seconds ahead
rather than faking time).
"""

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time for the schedule, monotonic time for intervals, and an interruptible wait."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait until `event` is set or `timeout` seconds pass; True when it was set."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """time.monotonic()."""
        return time.monotonic()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """threading.Event.wait."""
        return event.wait(max(0.0, timeout))
