"""Device health as the dashboard shows it: uptime pictures, availability during windows, alerts.

Owns turning services' uptime reports and heartbeat metrics into bars, numbers and alert lines. Reads
through controller.services only; must not mark devices offline or change anything.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from controller import services
from controller.i18n import format_decimal, format_megabytes, format_percent
from controller.planning import occurrences, upcoming
from controller.services import AlertCandidate
from controller.services.views import DeviceView
from web.ui import common
from web.ui.timeline import Segment

OFFLINE_ALERT_MINUTES: Final = 10
WEEK: Final = timedelta(days=7)


@dataclass(frozen=True)
class Metrics:
    """The heartbeat figures people look at, already formatted (— when unknown)."""

    temperature: str
    disk: str
    signal: str
    volume: str
    assets_missing: int


def metrics(view: DeviceView) -> Metrics:
    """Temperature, free disk, network signal and missing assets from the last heartbeat."""
    data: dict[str, Any] = view.metrics or {}
    net = data.get("net") or {}
    temp, disk = data.get("cpu_temp_c"), data.get("disk_free_mb")
    signal = net.get("signal")
    kind = net.get("type")
    return Metrics(
        temperature="—" if temp is None else f"{format_decimal(float(temp), 0)} °C",
        disk=format_megabytes(disk),
        signal=" ".join(str(p) for p in (kind, signal) if p not in (None, "")) or "—",
        volume="—" if data.get("volume") is None else f"{data['volume']}%",
        assets_missing=int(data.get("assets_missing") or 0),
    )


def window_availability(db: Session, device_id: str, now: datetime) -> float | None:
    """The share of the last 7 days' window time the device was up (None before any window)."""
    windows = [(w.start, w.end) for w in occurrences(common.schedule(), now - WEEK, now)]
    return services.window_uptime(db, [device_id], windows, now)[device_id]


@dataclass(frozen=True)
class UptimeBar:
    """An uptime picture: equal slots coloured by their own uptime, and the percentage of the same data."""

    fraction: float | None
    slots: list[Segment]


# A slot is green when its cluster answered nearly all of it (a lost heartbeat or two is a blip, not an
# outage), red when it was gone most of it, and amber ("chập chờn") in between: red slots can then cover
# at most twice the downtime the percentage states.
UP_AT_LEAST: Final = 0.95
GAP_BELOW: Final = 0.5
_SLOT_WORDS: Final = {"up": "hoạt động", "flaky": "chập chờn", "gap": "mất liên lạc"}


def slot_kind(fraction: float | None) -> str:
    """The colour class of a slot with this uptime fraction (`none` before the cluster was added)."""
    if fraction is None:
        return "none"
    if fraction >= UP_AT_LEAST:
        return "up"
    return "flaky" if fraction >= GAP_BELOW else "gap"


def uptime_bar(db: Session, device_id: str, now: datetime, period: timedelta, count: int) -> UptimeBar:
    """The period as `count` slots, each coloured by its own uptime, with the whole period's fraction."""
    report = services.uptime_slots(db, device_id, now, period, count)
    width = 100 / count
    slots = []
    for index, slot in enumerate(report.slots):
        kind = slot_kind(slot.fraction)
        span = f"{common.local(slot.start)} – {common.local(slot.end)}"
        title = (
            f"{span}: chưa lắp đặt"
            if slot.fraction is None
            else f"{span}: {_SLOT_WORDS[kind]}, trực tuyến {format_percent(slot.fraction)}"
        )
        slots.append(Segment(left=index * width, width=width, kind=kind, title=title))
    return UptimeBar(fraction=report.fraction, slots=slots)


def alerts(
    views: list[AlertCandidate], now: datetime, minutes: int = OFFLINE_ALERT_MINUTES
) -> list[tuple[AlertCandidate, str]]:
    """Devices offline longer than `minutes`, and devices missing audio before the next window."""
    found: list[tuple[AlertCandidate, str]] = []
    next_window = next(upcoming(common.schedule(), now))
    for view in views:
        if not view.online and (view.last_seen is None or now - view.last_seen > timedelta(minutes=minutes)):
            since = (
                "chưa từng kết nối"
                if view.last_seen is None
                else f"mất kết nối từ {common.local(view.last_seen)}"
            )
            found.append((view, f"Ngoại tuyến quá {minutes} phút ({since})."))
        missing = view.assets_missing
        if missing:
            found.append(
                (view, f"Thiếu {missing} tệp âm thanh trước khung giờ {common.local(next_window.start)}.")
            )
    return found
