"""The Amplifier port: the relay that powers the speaker amplifier, on before a play and off after.

Owns the GPIO pin through gpiozero (tests use gpiozero's MockFactory). It must not decide when to play.
"""

import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Amplifier(Protocol):
    """Switches the amplifier; `on` waits for its warm-up so the first words are not lost."""

    @property
    def is_on(self) -> bool:
        """True while the amplifier is powered."""
        ...

    def on(self, cancel: threading.Event) -> None:
        """Power on and wait the warm-up time (cut short when `cancel` is set)."""
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

    def off(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class GpioAmplifier:
    """A relay on a GPIO pin (BCM numbering), active high, driven with gpiozero's OutputDevice."""

    def __init__(self, pin: int, warmup_s: float) -> None:
        from gpiozero import OutputDevice

        self._device = OutputDevice(pin, active_high=True, initial_value=False)
        self._warmup_s = warmup_s
        self._lock = threading.Lock()

    @property
    def is_on(self) -> bool:
        """True while the relay is energised."""
        return bool(self._device.value)

    def on(self, cancel: threading.Event) -> None:
        """Energise the relay; wait the warm-up only when it was off."""
        with self._lock:
            was_on = self.is_on
            self._device.on()
        if not was_on:
            log.info("amplifier on, warming up %.1f s", self._warmup_s)
            cancel.wait(self._warmup_s)

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
