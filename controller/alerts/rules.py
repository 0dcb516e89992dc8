"""The alert rules: what in the fleet's state is worth waking someone for, worded in Vietnamese.

A pure function of the clusters' states, their window schedules, the broker's state and `now`; it sends
nothing and remembers nothing (controller.alerts.engine does).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from controller.i18n import format_megabytes
from controller.planning import Schedule, current_or_next
from controller.services.fleet_status import ClusterState


@dataclass(frozen=True)
class Alert:
    """One problem: a stable key (so it is announced once), its kind, severity and the words for people."""

    key: str
    kind: str  # cluster_offline | disk_low | clock_unsynced | broker_down
    severity: str  # critical | warning
    subject: str
    text: str


def _offline_in_window(state: ClusterState, schedule: Schedule, now: datetime) -> Alert | None:
    window = current_or_next(schedule, now)
    if state.online or not window.contains(now):
        return None
    closes = window.end.astimezone(schedule.timezone).strftime("%H:%M")
    return Alert(
        key=f"cluster_offline:{state.device_id}:{window.key}",
        kind="cluster_offline",
        severity="critical",
        subject=f"Cụm loa {state.device_id} mất kết nối trong giờ phát",
        text=(
            f"Cụm loa {state.device_id} (thôn {state.village_id}) không liên lạc được trong khung giờ phát "
            f"'{window.name}' (đến {closes}). Bản tin đã nhận vẫn phát theo lịch nếu thiết bị còn điện; "
            "hãy kiểm tra nguồn điện, 4G và bộ khuếch đại tại cụm loa."
        ),
    )


def _disk_low(state: ClusterState, limit_mb: float) -> Alert | None:
    if state.disk_free_mb is None or state.disk_free_mb >= limit_mb:
        return None
    return Alert(
        key=f"disk_low:{state.device_id}",
        kind="disk_low",
        severity="warning",
        subject=f"Cụm loa {state.device_id} sắp hết dung lượng thẻ nhớ",
        text=(
            f"Cụm loa {state.device_id} chỉ còn {format_megabytes(state.disk_free_mb)} trống "
            f"(ngưỡng {format_megabytes(limit_mb)}). "
            "Hãy xoá tệp nhật ký cũ hoặc thay thẻ nhớ lớn hơn để thiết bị tiếp tục tải bản tin."
        ),
    )


def _clock_unsynced(state: ClusterState) -> Alert | None:
    if state.clock_synced is not False or not state.online:
        return None
    return Alert(
        key=f"clock_unsynced:{state.device_id}",
        kind="clock_unsynced",
        severity="warning",
        subject=f"Đồng hồ cụm loa {state.device_id} chưa đồng bộ",
        text=(
            f"Đồng hồ của cụm loa {state.device_id} chưa được đồng bộ giờ qua mạng, nên thiết bị bỏ qua các "
            "bản tin theo lịch. Hãy kiểm tra kết nối mạng và dịch vụ NTP (systemd-timesyncd) trên thiết bị."
        ),
    )


def _broker_down(down_since: datetime | None, now: datetime, after_s: float) -> Alert | None:
    if down_since is None or (now - down_since).total_seconds() < after_s:
        return None
    return Alert(
        key="broker_down",
        kind="broker_down",
        severity="critical",
        subject="Máy chủ MQTT không hoạt động",
        text=(
            f"Bộ điều khiển mất kết nối với máy chủ MQTT từ {down_since:%H:%M:%S} UTC: "
            "không gửi được bản tin, lệnh khẩn cấp và không nhận được báo cáo phát. "
            "Hãy xem nhật ký (journalctl -u loaxa-controller) và khởi động lại dịch vụ nếu cần."
        ),
    )


def evaluate(
    states: Iterable[ClusterState],
    schedule_for: Callable[[ClusterState], Schedule],
    now: datetime,
    *,
    broker_down_since: datetime | None,
    disk_low_mb: float,
    broker_down_s: float,
) -> list[Alert]:
    """Every alert that holds at `now`, in a stable order."""
    found: list[Alert | None] = [_broker_down(broker_down_since, now, broker_down_s)]
    for state in states:
        found += [
            _offline_in_window(state, schedule_for(state), now),
            _disk_low(state, disk_low_mb),
            _clock_unsynced(state),
        ]
    return [alert for alert in found if alert is not None]
