"""Health figures for the heartbeat (DESIGN §5), read from /proc, /sys and statvfs (Linux, as on a Pi).

Owns only measuring; it must not publish anything. Every reading is best effort: a missing sensor is None.
The files are read directly rather than through psutil, which costs the agent 2.4 MB of memory for four
numbers (bench/bench_agent.py; the agent's budget is 30 MB).
"""

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
_HWMON = Path("/sys/class/hwmon")
_NET = Path("/sys/class/net")
_MEMINFO = Path("/proc/meminfo")
_IFF_UP = 0x1  # linux/if.h: the interface is administratively up (psutil's `isup`)
_NET_KINDS = (("wlan", "wifi"), ("wl", "wifi"), ("eth", "ethernet"), ("en", "ethernet"), ("wwan", "cellular"),
              ("usb", "cellular"), ("ppp", "cellular"))  # fmt: skip


def _millidegrees(path: Path) -> float | None:
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def cpu_temp_c() -> float | None:
    """The SoC temperature in °C (the first thermal zone, else the first hwmon sensor), or None."""
    reading = _millidegrees(_THERMAL)
    if reading is not None:
        return reading
    for sensor in sorted(_HWMON.glob("hwmon*/temp*_input")):
        reading = _millidegrees(sensor)
        if reading is not None:
            return reading
    return None


def _is_up(iface: Path) -> bool:
    try:
        return bool(int((iface / "flags").read_text().strip(), 16) & _IFF_UP)
    except (OSError, ValueError):
        return False


def network(net: Path = _NET) -> dict[str, Any]:
    """The first interface that is up (not loopback) and its kind: ethernet, wifi, cellular or unknown."""
    try:
        names = sorted(entry.name for entry in os.scandir(net))
    except OSError:
        names = []
    for name in names:
        if name != "lo" and _is_up(net / name):
            kind = next((k for prefix, k in _NET_KINDS if name.startswith(prefix)), "unknown")
            return {"type": kind, "iface": name}
    return {"type": "none"}


def cache_bytes(cache_dir: Path) -> int:
    """Bytes used by cached assets."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(cache_dir) if entry.is_file())
    except OSError:
        return 0


def mem_used_pct(meminfo: Path = _MEMINFO) -> float | None:
    """Memory in use, as `free` and psutil count it: (MemTotal − MemAvailable) ÷ MemTotal, in %."""
    try:
        fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines() if ":" in line)
        total, available = (int(fields[key].split()[0]) for key in ("MemTotal", "MemAvailable"))
    except (OSError, KeyError, ValueError, IndexError):
        return None
    return round((total - available) / total * 100, 1) if total else None


def system(disk_path: Path) -> dict[str, float | None]:
    """Load, memory and free disk where the agent keeps its state."""
    try:
        stats = os.statvfs(disk_path)
        disk_free_mb: float | None = round(stats.f_bavail * stats.f_frsize / 2**20, 1)  # free to a user
    except OSError:
        disk_free_mb = None
    return {
        "cpu_temp_c": cpu_temp_c(),
        "load1": round(os.getloadavg()[0], 2),
        "mem_used_pct": mem_used_pct(),
        "disk_free_mb": disk_free_mb,
    }
