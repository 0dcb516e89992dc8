"""The Amplifier port: the relay that powers the speaker amplifier, on before a play and off after.

Owns the GPIO pin through gpiozero (tests use gpiozero's MockFactory) and warming up ahead of a known
start. It must not decide when to play.
"""

import logging
import threading
from datetime import datetime, timedelta
from typing import Protocol

from edge_agent.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class Amplifier(Protocol):
    """Switches the amplifier; `on` waits for its warm-up so the first words are not lost."""

    @property
    def is_on(self) -> bool:
        """True while the amplifier is powered."""
        ...

    def on(self, cancel: threading.Event) -> None:
        """Power on and wait what is left of the warm-up time (cut short when `cancel` is set)."""
        ...

    def prepare(self) -> None:
        """Power on without waiting, so a play due within the warm-up time starts on time."""
        ...

    def off(self) -> None:
        """Power off."""
        ...

    def close(self) -> None:
        """Power off and release the hardware."""
        ...


class NoAmplifier:
    """No relay configured: the amplifier is always on (or not ours to switch)."""

    is_on = False

    def on(self, cancel: threading.Event) -> None:
        """Nothing to do."""

    def prepare(self) -> None:
        """Nothing to do."""

    def off(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class GpioAmplifier:
    """A relay on a GPIO pin (BCM numbering), active high, driven with gpiozero's OutputDevice."""

    def __init__(self, pin: int, warmup_s: float, clock: Clock | None = None) -> None:
        from gpiozero import OutputDevice

        self._clock: Clock = clock or SystemClock()
        self._device = OutputDevice(pin, active_high=True, initial_value=False)
        self._warmup_s = warmup_s
        self._lock = threading.Lock()
        self._warm_at = 0.0  # monotonic time when the amplifier is warm

    @property
    def is_on(self) -> bool:
        """True while the relay is energised."""
        return bool(self._device.value)

    def on(self, cancel: threading.Event) -> None:
        """Energise the relay and wait until it has been on for the warm-up time."""
        self.prepare()
        cancel.wait(max(0.0, self._warm_at - self._clock.monotonic()))

    def prepare(self) -> None:
        """Energise the relay now (when off), starting the warm-up; do not wait."""
        with self._lock:
            if self.is_on:
                return
            self._device.on()
            self._warm_at = self._clock.monotonic() + self._warmup_s
        log.info("amplifier on, warming up %.1f s", self._warmup_s)

    def off(self) -> None:
        """Release the relay."""
        with self._lock:
            if self.is_on:
                log.info("amplifier off")
            self._device.off()

    def close(self) -> None:
        """Release the relay and the pin."""
        self.off()
        self._device.close()


def warm_before(
    amplifier: Amplifier, next_start: datetime | None, now: datetime, warmup_s: float
) -> datetime | None:
    """While idle: power on `warmup_s` before the next start, off when none is due; return when to act next.

    So a play starts on time instead of `warmup_s` late; the relay is not left on for nothing.
    """
    warm_at = None if next_start is None else next_start - timedelta(seconds=warmup_s)
    if warm_at is not None and warm_at <= now:
        amplifier.prepare()
        return None
    if amplifier.is_on:
        amplifier.off()
    return warm_at
