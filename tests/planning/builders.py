"""Small builders for planner inputs, shared by the unit and property tests."""

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from controller.planning import AudioVersion, PlannedBulletin, PlannedDevice, Schedule, load_schedule
from protocol import Asset, Priority

REPO = Path(__file__).resolve().parents[2]
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT = load_schedule(REPO / "schedules" / "default.toml")


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Tú Lệ in November 2026."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=HANOI)


def asset(key: str, seconds: float) -> Asset:
    sha = hashlib.sha256(key.encode()).hexdigest()
    return Asset(sha256=sha, bytes=1000, duration_ms=round(seconds * 1000), url=f"https://c.example/a/{sha}")


def bulletin(
    bulletin_id: int,
    *,
    priority: Priority = "normal",
    approved_at: datetime | None = None,
    devices: Iterable[str] = ("c01",),
    seconds: float = 60,
    languages: Iterable[str] = ("vi",),
    expires_at: datetime | None = None,
) -> PlannedBulletin:
    return PlannedBulletin(
        bulletin_id=bulletin_id,
        priority=priority,
        approved_at=approved_at or local(21, 12) + timedelta(minutes=bulletin_id),
        device_ids=frozenset(devices),
        versions=tuple(AudioVersion(lang, asset(f"{bulletin_id}-{lang}", seconds)) for lang in languages),
        expires_at=expires_at,
    )


def device(
    device_id: str = "c01",
    *,
    languages: Iterable[str] = ("vi",),
    schedule: Schedule = DEFAULT,
    busy_until: datetime | None = None,
) -> PlannedDevice:
    return PlannedDevice(
        device_id=device_id, languages=frozenset(languages), schedule=schedule, busy_until=busy_until
    )
