"""Health figures for the heartbeat (DESIGN §5), read with psutil and a few files under /sys.

Owns only measuring; it must not publish anything. Every reading is best effort: a missing sensor is None.
"""

import logging
import os
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)
_THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
_NET_KINDS = (("wlan", "wifi"), ("wl", "wifi"), ("eth", "ethernet"), ("en", "ethernet"), ("wwan", "cellular"),
              ("usb", "cellular"), ("ppp", "cellular"))  # fmt: skip


def cpu_temp_c() -> float | None:
    """The SoC temperature in °C, or None where there is no sensor."""
    try:
        return round(int(_THERMAL.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        pass
    sensors = getattr(psutil, "sensors_temperatures", None)
    readings = sensors() if sensors else {}
    for entries in readings.values():
        if entries:
            return round(float(entries[0].current), 1)
    return None


def network() -> dict[str, Any]:
    """The first interface that is up (not loopback) and its kind: ethernet, wifi, cellular or unknown."""
    for name, stats in sorted(psutil.net_if_stats().items()):
        if stats.isup and name != "lo":
            kind = next((k for prefix, k in _NET_KINDS if name.startswith(prefix)), "unknown")
            return {"type": kind, "iface": name}
    return {"type": "none"}


def cache_bytes(cache_dir: Path) -> int:
    """Bytes used by cached assets."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(cache_dir) if entry.is_file())
    except OSError:
        return 0


def system(disk_path: Path) -> dict[str, float | None]:
    """Load, memory and free disk where the agent keeps its state."""
    try:
        disk_free_mb: float | None = round(psutil.disk_usage(str(disk_path)).free / 2**20, 1)
    except OSError:
        disk_free_mb = None
    return {
        "cpu_temp_c": cpu_temp_c(),
        "load1": round(os.getloadavg()[0], 2),
        "mem_used_pct": round(psutil.virtual_memory().percent, 1),
        "disk_free_mb": disk_free_mb,
    }
