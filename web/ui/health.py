"""Device health as the dashboard shows it: uptime pictures, availability during windows, alerts.

Owns turning services' uptime reports and heartbeat metrics into bars, numbers and alert lines. Reads
through controller.services only; must not mark devices offline or change anything.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from controller import services
from controller.planning import occurrences, upcoming
from controller.services import AlertCandidate
from controller.services.views import DeviceView
from web.ui import common
from web.ui.timeline import Segment, segments

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
        temperature="—" if temp is None else f"{float(temp):.0f} °C",
        disk="—" if disk is None else f"{float(disk):,.0f} MB".replace(",", "."),
        signal=" ".join(str(p) for p in (kind, signal) if p not in (None, "")) or "—",
        volume="—" if data.get("volume") is None else f"{data['volume']}%",
        assets_missing=int(data.get("assets_missing") or 0),
    )


def window_availability(db: Session, device_id: str, now: datetime) -> float | None:
    """The share of the last 7 days' window time the device was up (None before any window)."""
    windows = [(w.start, w.end) for w in occurrences(common.schedule(), now - WEEK, now)]
    return services.window_uptime(db, [device_id], windows, now)[device_id]


def heartbeat_bar(db: Session, device_id: str, now: datetime, period: timedelta) -> list[Segment]:
    """The period as a green bar with red gaps where no heartbeat covered the device."""
    report = services.device_uptime(db, device_id, now - period, now)
    spans = [(now - period, now, "up", "Trực tuyến")]
    spans += [
        (g.start, g.end, "gap", f"Mất liên lạc {common.local(g.start)} – {common.local(g.end)}")
        for g in report.gaps
    ]
    return segments(now - period, now, spans)


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
