"""Clock sanity: whether the wall clock may be trusted to play scheduled items (see firmware_notes).

A Raspberry Pi has no battery clock: after a power cut without network it boots at the time fake-hwclock
saved, or at 1970. The rule, evaluated on every loop pass:

- the clock is **unsynchronised** when it reads earlier than the build floor (`BUILD_FLOOR`) or earlier
  than the last known good time stored in the state database (minus `_BACKWARDS_SLACK`);
- with ``[clock] source = "ntp"`` (the default, for a Pi) it is also unsynchronised until the kernel has
  reported NTP synchronisation once since the Pi booted (adjtimex without STA_UNSYNC, what `timedatectl`'s
  NTPSynchronized reads). Once is enough: the kernel sets STA_UNSYNC again after ~9 h without an NTP
  answer (its error estimate passes 16 s), while a running clock stays within seconds a day, and the
  agent must play offline for days. The boot it happened in is stored, so an agent restart keeps it;
- ``source = "system"`` trusts a clock kept by someone else (a container, a host with its own NTP) once it
  passes the floors.

Owns the kernel probe, the floors and saving the last known good time (every `_SAVE_EVERY_S` while
trusted, through the store it is given). It must not change the system clock or decide what plays
(schedule.py takes the verdict as an argument).
"""

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal, Protocol

log = logging.getLogger(__name__)
ClockSource = Literal["ntp", "system"]
# No real clock can read earlier than the release that is running (raised with each release).
BUILD_FLOOR: Final = datetime(2026, 11, 1, tzinfo=UTC)
# NTP may step the clock back a little; more than this below the last known good time is a wrong clock.
_BACKWARDS_SLACK: Final = timedelta(minutes=5)
_SAVE_EVERY_S: Final = 600.0
_BOOT_ID: Final = Path("/proc/sys/kernel/random/boot_id")
_STA_UNSYNC: Final = 0x0040
_TIME_ERROR: Final = 5


class _Timex(ctypes.Structure):
    """struct timex of <sys/timex.h> (Linux); only `status` is read, the rest sizes the buffer."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("rest", ctypes.c_long * 24),
    ]


def kernel_synced() -> bool | None:
    """Whether the kernel reports an NTP-disciplined clock (adjtimex); None where it cannot be asked."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    timex = _Timex()  # modes = 0: read only
    state = adjtimex(ctypes.byref(timex))
    if state < 0:
        return None
    return state != _TIME_ERROR and not timex.status & _STA_UNSYNC


def boot_id() -> str | None:
    """The current boot's id (Linux), or None where there is none."""
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None


class GoodTimeStore(Protocol):
    """Where the last trusted wall-clock time and the boot NTP last synced in survive (State)."""

    def last_good_time(self) -> datetime | None:
        """The stored time, if any."""
        ...

    def set_last_good_time(self, now: datetime) -> None:
        """Store a trusted time."""
        ...

    def synced_boot(self) -> str | None:
        """The boot in which the kernel last reported NTP synchronisation."""
        ...

    def set_synced_boot(self, boot: str) -> None:
        """Store the boot in which the kernel reported NTP synchronisation."""
        ...


class ClockCheck:
    """Judges the wall clock; `synced(now, mono)` is cheap enough to ask on every loop pass."""

    def __init__(
        self,
        source: ClockSource,
        store: GoodTimeStore,
        *,
        probe: Callable[[], bool | None] = kernel_synced,
        boot: Callable[[], str | None] = boot_id,
    ) -> None:
        self._source = source
        self._store = store
        self._boot = boot()
        self._latched = self._boot is not None and store.synced_boot() == self._boot
        last_good = store.last_good_time()
        self._floor = max(BUILD_FLOOR, (last_good or BUILD_FLOOR) - _BACKWARDS_SLACK)
        self._probe = probe
        self._last: bool | None = None
        self._next_save: float | None = None

    def synced(self, now: datetime, monotonic: float) -> bool:
        """True when scheduled items may be played at `now` (see the module rule)."""
        verdict, why = self._judge(now)
        if verdict and (self._next_save is None or monotonic >= self._next_save):
            self._store.set_last_good_time(now)
            self._next_save = monotonic + _SAVE_EVERY_S
        if verdict != self._last:
            if verdict:
                log.info("wall clock is trusted (%s)", now.isoformat())
            else:
                log.warning("wall clock is not synchronised (%s): scheduled items are held", why)
            self._last = verdict
        return verdict

    def _judge(self, now: datetime) -> tuple[bool, str]:
        if now < self._floor:
            return False, f"{now.isoformat()} is before {self._floor.isoformat()}"
        if self._source == "ntp" and not self._latched:
            kernel = self._probe()
            if kernel is False:
                return False, "the kernel has reported no NTP synchronisation since boot"
            if kernel and self._boot is not None:
                self._latched = True
                self._store.set_synced_boot(self._boot)
        return True, ""
