"""Drills (DESIGN §12): a short announced test on the loudspeakers, and the report of who answered.

Owns drill rows and the report built from the as-run log: every cluster the drill's bulletin targets is
either acknowledged (it reported `started`, with the delay from the drill's start, and `finished`, or the
reason it stopped) or missing (with when it was last heard from). Must not write bulletins (the drill use
case does that through controller.usecases) or commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Device, Drill, Play
from controller.services._bulletin_views import load_bulletin
from controller.services.bulletins import target_devices
from controller.services.errors import NotFound

#: What the loudspeakers say in a drill (Vietnamese, read by the normal speech path).
DRILL_TITLE: Final = "Phát thử hệ thống cảnh báo"
DRILL_TEXT: Final = (
    "Đây là phát thử hệ thống cảnh báo của xã. Đây chỉ là phát thử, không có nguy hiểm gì. "
    "Bà con không cần làm gì. Xin cảm ơn bà con."
)
ORIGINS: Final = ("manual", "cap")
#: The volume (0–100) a drill plays at when none is given: clearly heard, below a real alarm.
DEFAULT_DRILL_VOLUME: Final = 60


@dataclass(frozen=True)
class Acknowledged:
    """A cluster that played the drill: when it started (and the delay), when it finished, any problem."""

    device_id: str
    started_at: datetime
    delay: timedelta
    finished_at: datetime | None
    problem: str | None  # the reason an interrupted or failed play reported (e.g. dead air)


@dataclass(frozen=True)
class Missing:
    """A cluster that did not report playing the drill, and when it was last heard from."""

    device_id: str
    last_seen: datetime | None
    online: bool


@dataclass(frozen=True)
class DrillReport:
    """One drill: its bulletin, origin and every targeted cluster's answer."""

    id: int
    bulletin_id: int
    status: str
    origin: str
    started_by: str
    started_at: datetime
    volume: int | None  # None: an older drill, played at each cluster's own volume
    acknowledged: tuple[Acknowledged, ...]
    missing: tuple[Missing, ...]


def record_drill(
    session: Session, now: datetime, *, bulletin_id: int, origin: str, started_by: str, volume: int
) -> int:
    """Remember that the bulletin `bulletin_id` is a drill played at `volume` (0–100); returns its id."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown drill origin {origin!r}")
    if isinstance(volume, bool) or not 0 <= volume <= 100:
        raise ValueError(f"drill volume must be 0–100, got {volume!r}")
    row = Drill(bulletin_id=bulletin_id, origin=origin, started_by=started_by, started_at=now, volume=volume)
    session.add(row)
    session.flush()
    return row.id


def drill_volumes(session: Session, bulletin_ids: Iterable[int]) -> dict[int, int]:
    """Bulletin id → the volume its drill plays at, for those of `bulletin_ids` that are drills with one."""
    wanted = list(bulletin_ids)
    if not wanted:
        return {}
    query = select(Drill.bulletin_id, Drill.volume).where(
        Drill.bulletin_id.in_(wanted), Drill.volume.is_not(None)
    )
    return {bulletin_id: volume for bulletin_id, volume in session.execute(query) if volume is not None}


def drill_bulletin_ids(session: Session) -> set[int]:
    """Every bulletin that is a drill (they stay off the public pages and feeds)."""
    return set(session.scalars(select(Drill.bulletin_id)))


def list_drills(session: Session, limit: int = 50) -> list[tuple[int, datetime, str]]:
    """(id, started_at, origin) of the newest drills."""
    query = select(Drill.id, Drill.started_at, Drill.origin).order_by(Drill.id.desc()).limit(limit)
    return [(i, at, origin) for i, at, origin in session.execute(query)]


def drill_report(session: Session, drill_id: int) -> DrillReport:
    """The report of a drill from the as-run log and the device registry."""
    drill = session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(f"Không có buổi phát thử số {drill_id}; xem danh sách phát thử.")
    bulletin = load_bulletin(session, drill.bulletin_id)
    devices = target_devices(session, bulletin)
    plays: dict[str, list[Play]] = {}
    query = select(Play).where(Play.bulletin_id == drill.bulletin_id).order_by(Play.id)
    for play in session.scalars(query):
        plays.setdefault(play.device_id, []).append(play)
    acknowledged, missing = [], []
    for device_id in devices:
        started = [(p, p.started_at) for p in plays.get(device_id, []) if p.started_at is not None]
        if started:
            first_start = started[0][1]
            finished = [p.finished_at for p, _ in started if p.status == "finished" and p.finished_at]
            problems = [p.reason or p.status for p, _ in started if p.status in ("interrupted", "failed")]
            acknowledged.append(
                Acknowledged(
                    device_id=device_id,
                    started_at=first_start,
                    delay=max(first_start - drill.started_at, timedelta(0)),
                    finished_at=max(finished) if finished else None,
                    problem=problems[0] if problems else None,
                )
            )
        else:
            device = session.get(Device, device_id)
            missing.append(
                Missing(
                    device_id=device_id,
                    last_seen=device.last_seen if device else None,
                    online=bool(device and device.online),
                )
            )
    return DrillReport(
        id=drill.id, bulletin_id=drill.bulletin_id, status=bulletin.status, origin=drill.origin,
        started_by=drill.started_by, started_at=drill.started_at, volume=drill.volume,
        acknowledged=tuple(acknowledged), missing=tuple(missing),
    )  # fmt: skip
