"""The heartbeat's health figures read from /proc, /sys and statvfs agree with psutil on this machine, and
a missing or odd file gives None (or "none"), never an error."""

from pathlib import Path

import psutil
import pytest

from edge_agent import metrics


def test_memory_disk_and_network_agree_with_psutil(tmp_path: Path) -> None:
    figures = metrics.system(tmp_path)
    assert figures["mem_used_pct"] == pytest.approx(psutil.virtual_memory().percent, abs=2.0)
    assert figures["disk_free_mb"] == pytest.approx(psutil.disk_usage(str(tmp_path)).free / 2**20, rel=0.01)
    up = sorted(name for name, stats in psutil.net_if_stats().items() if stats.isup and name != "lo")
    assert metrics.network().get("iface") == (up[0] if up else None)


def test_odd_or_missing_files_give_none(tmp_path: Path) -> None:
    (tmp_path / "meminfo").write_text("MemTotal: 1000 kB\nMemFree: 10 kB\n")  # no MemAvailable
    assert metrics.mem_used_pct(tmp_path / "meminfo") is None
    (tmp_path / "meminfo").write_text("MemTotal:  2000 kB\nMemAvailable:  500 kB\n")
    assert metrics.mem_used_pct(tmp_path / "meminfo") == 75.0
    net = tmp_path / "net"
    for name, flags in (("lo", "0x9"), ("eth0", "0x1002"), ("wwan0", "0x1091"), ("wlan0", "garbage")):
        (net / name).mkdir(parents=True)
        (net / name / "flags").write_text(flags + "\n")
    assert metrics.network(net) == {"type": "cellular", "iface": "wwan0"}  # eth0 is down, wlan0 unreadable
    assert metrics.network(tmp_path / "absent") == {"type": "none"}
    assert metrics.system(tmp_path / "absent")["disk_free_mb"] is None
