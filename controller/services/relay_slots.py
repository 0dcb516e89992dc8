"""Relay slots (DESIGN §8, §13): a bulletin whose `source` is a station's stream for a time inside a window.

Owns the rules of a slot: the source's shape (`{"kind": "relay", "station": ID, "duration_s": N}`), a
station in service, a start time with the whole slot inside one window, no overlap with another live
relay slot that reaches a common device on a common day, and the spoken filler agents loop while no URL
plays. Must not commit, plan or touch the streaming server.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Station
from controller.planning import Schedule, ScheduleOptions
from controller.services._bulletin_input import check_schedule, check_targets
from controller.services.bulletins import create_bulletin, target_devices
from controller.services.errors import Conflict, ValidationFailed
from controller.services.scope import scope_of
from controller.services.users import require
from controller.services.views import BulletinView, UserView

MIN_DURATION_S: Final = 10
MAX_DURATION_S: Final = 4 * 3600
LIVE_STATUSES: Final = ("draft", "pending", "approved")
WINDOW_NAMES: Final = {"morning": "buổi sáng", "evening": "buổi chiều"}  # refusals reach pages as they are


class RelayOutsideWindow(ValidationFailed):
    """The slot has no start time, or does not lie wholly inside one broadcast window."""

    code = "relay_outside_window"


class RelayOverlap(Conflict):
    """Another relay slot plays at the same time on a common device and day."""

    code = "relay_overlap"


class BadRelaySource(ValidationFailed):
    """The `source` object is not a relay of a station in service for a sensible duration."""

    code = "bad_source"


@dataclass(frozen=True)
class RelayRequest:
    """A checked relay source: the stored JSON and the station's name (for the filler)."""

    source: dict[str, Any]
    station_name: str

    @property
    def duration(self) -> timedelta:
        """How long the slot lasts."""
        return timedelta(seconds=int(self.source["duration_s"]))


def filler_text(station_name: str) -> str:
    """What agents say, looped, while the station's stream does not play (rendered as speech)."""
    return f"Đài đang nối lại sóng {station_name}, xin quý vị chờ trong giây lát."


def check_relay_source(session: Session, value: object, commune_id: str | None) -> RelayRequest:
    """Check `{"kind": "relay", "station": ID, "duration_s": N}` against the stations in service."""
    if (
        not isinstance(value, dict)
        or value.get("kind") != "relay"
        or set(value) != {"kind", "station", "duration_s"}
    ):
        raise BadRelaySource(
            'source phải có dạng {"kind": "relay", "station": số đài, "duration_s": số giây}, '
            f"nhận {value!r:.80}; hãy chọn đài và thời lượng tiếp sóng"
        )
    station_id, duration = value["station"], value["duration_s"]
    if isinstance(station_id, bool) or not isinstance(station_id, int):
        raise BadRelaySource(f"source.station phải là số của một đài, nhận {station_id!r:.40}")
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not MIN_DURATION_S <= duration <= MAX_DURATION_S
    ):
        raise BadRelaySource(
            f"source.duration_s phải là số giây từ {MIN_DURATION_S} đến {MAX_DURATION_S} "
            f"({MAX_DURATION_S // 3600} giờ), nhận {duration!r:.40}"
        )
    station = session.get(Station, station_id)
    if (
        station is None
        or station.retired
        or (commune_id is not None and station.commune_id not in (None, commune_id))
    ):
        raise BadRelaySource(
            f"không có đài số {station_id} đang dùng; hãy chọn một đài trong danh sách (GET /api/v1/stations)"
        )
    return RelayRequest({"kind": "relay", "station": station_id, "duration_s": duration}, station.name)


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def check_relay_window(request: RelayRequest, options: ScheduleOptions, windows: Schedule | None) -> None:
    """The slot needs a start time, and from it to its end it must lie inside one (chosen) window."""
    if options.start_time is None:
        raise RelayOutsideWindow(
            'một lượt tiếp sóng cần giờ bắt đầu: thêm "start_time": "HH:MM" vào lịch phát (schedule)'
        )
    if windows is None:
        return
    start = datetime.combine(date(2000, 1, 3), options.start_time)
    end = start + request.duration
    chosen = [w for w in windows.windows if not options.windows or w.name in options.windows]
    for window in chosen:
        opens = datetime.combine(start.date(), time.fromisoformat(window.start))
        closes = datetime.combine(start.date(), time.fromisoformat(window.end))
        if opens <= start and end <= closes:
            return
    spans = ", ".join(f"{WINDOW_NAMES.get(w.name, w.name)} {w.start[:5]}–{w.end[:5]}" for w in chosen)
    raise RelayOutsideWindow(
        f"lượt tiếp sóng {_clock(start.time())}–{_clock(end.time())} không nằm trọn trong khung phát nào "
        f"({spans}); hãy chọn giờ bắt đầu hoặc thời lượng để cả lượt nằm trong một khung"
    )


def _days(options: ScheduleOptions, today: date) -> frozenset[date]:
    """The local days a slot may play on; `next_window` may still be today or tomorrow."""
    dates = options.resolve(today).dates
    return frozenset({today, today + timedelta(days=1)}) if dates is None else dates


def _span(options: ScheduleOptions, duration_s: int) -> tuple[datetime, datetime]:
    start = datetime.combine(date(2000, 1, 3), options.start_time or time(0))
    return start, start + timedelta(seconds=duration_s)


def check_relay_overlap(
    session: Session,
    request: RelayRequest,
    options: ScheduleOptions,
    devices: set[str],
    today: date,
    *,
    exclude: int | None = None,
) -> None:
    """Refuse a slot that plays at the same time as another live relay slot on a common device and day."""
    start, end = _span(options, int(request.source["duration_s"]))
    days = _days(options, today)
    query = select(Bulletin).where(Bulletin.source.is_not(None), Bulletin.status.in_(LIVE_STATUSES))
    for other in session.scalars(query.order_by(Bulletin.id)):
        if other.id == exclude or not other.source or other.source.get("kind") != "relay":
            continue
        theirs = ScheduleOptions.from_json(other.schedule)
        their_start, their_end = _span(theirs, int(other.source["duration_s"]))
        if their_end <= start or end <= their_start:
            continue
        common = days & _days(theirs, today)
        shared = devices & set(target_devices(session, other))
        if common and shared:
            raise RelayOverlap(
                f"lượt tiếp sóng {_clock(start.time())}–{_clock(end.time())} trùng giờ với lượt số "
                f"{other.id} ({other.title!r}, {_clock(their_start.time())}–{_clock(their_end.time())}) trên "
                f"{len(shared)} cụm loa, ví dụ {sorted(shared)[0]}, ngày {min(common).isoformat()}; "
                "hãy đổi giờ, ngày hoặc nơi phát"
            )


def create_relay_slot(
    session: Session,
    actor: UserView,
    now: datetime,
    *,
    title: str,
    source: object,
    priority: str = "normal",
    targets: object,
    schedule: object = None,
    windows: Schedule | None = None,
) -> BulletinView:
    """Create a draft relay slot: the checks above, then a bulletin that speaks the filler as its text."""
    require(actor, "bulletin.create")
    request = check_relay_source(session, source, actor.commune_id)
    if priority == "emergency":
        raise BadRelaySource("tiếp sóng không thể là tin khẩn cấp; hãy chọn mức thường hoặc ưu tiên")
    # The slot's own window rule first (its code and words), then the schedule's checks against windows.
    options = check_schedule(schedule)
    check_relay_window(request, options, windows)
    options = check_schedule(schedule, windows)
    scope = scope_of(session, actor)
    clean_targets = check_targets(session, targets, scope)
    slot = Bulletin(targets=clean_targets, commune_id=actor.commune_id, sender_area=scope.area)
    devices = set(target_devices(session, slot))
    today = now.astimezone(windows.timezone).date() if windows is not None else now.date()
    check_relay_overlap(session, request, options, devices, today)
    return create_bulletin(
        session, actor, now, title=title, text=filler_text(request.station_name), priority=priority,
        targets=clean_targets, schedule=schedule, windows=windows, source=request.source,
    )  # fmt: skip


def check_relay_edit(
    session: Session, bulletin: Bulletin, changed: dict[str, Any], windows: Schedule | None, now: datetime
) -> None:
    """Check an edit of a relay slot: its text is the filler, and its new time or places must still fit."""
    if "text" in changed:
        raise BadRelaySource("nội dung của lượt tiếp sóng là lời chờ tự động; hãy sửa đài, giờ hoặc nơi phát")
    if not {"schedule", "targets"} & set(changed) or bulletin.source is None:
        return
    request = check_relay_source(session, bulletin.source, bulletin.commune_id)
    options = ScheduleOptions.from_json(changed.get("schedule", bulletin.schedule))
    check_relay_window(request, options, windows)
    targets = changed.get("targets", bulletin.targets)
    devices = set(target_devices(session, Bulletin(targets=targets, commune_id=bulletin.commune_id)))
    today = now.astimezone(windows.timezone).date() if windows is not None else now.date()
    check_relay_overlap(session, request, options, devices, today, exclude=bulletin.id)
