"""The alert rules: what in the fleet's state is worth waking someone for, worded in Vietnamese.

A pure function of the clusters' states, their window schedules, the broker's state, the recent dead-air
reports, the newest over-the-air rollout and `now`; it sends nothing and remembers nothing
(controller.alerts.engine does).

Inputs defined here (the callers fill them from storage):
- `DeadAir`: one stretch of silence a cluster reported while it should have been playing — which cluster,
  when the silence began, and how long it lasted (None: the report did not say). The rule fires per
  cluster while a report that ended within `DEAD_AIR_RECENT` lasted at least `dead_air_min_s` (or did not
  say how long), and ends once none is that recent.
- `FailedRollout`: the newest rollout when it stopped on a failed wave; the alert holds until an admin
  cancels (acknowledges) it or starts another one.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.i18n import format_megabytes
from controller.planning import Schedule, current_or_next
from controller.services.fleet_status import ClusterState


@dataclass(frozen=True)
class Alert:
    """One problem: a stable key (so it is announced once), its kind, severity and the words for people."""

    key: str
    kind: str  # cluster_offline | disk_low | clock_unsynced | broker_down | dead_air | rollout_failed
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


DEAD_AIR_RECENT = timedelta(hours=1)


@dataclass(frozen=True)
class DeadAir:
    """A cluster's report of silence on air: when it began and how long it lasted (None: not said)."""

    device_id: str
    started_at: datetime
    duration_s: float | None


@dataclass(frozen=True)
class FailedRollout:
    """An over-the-air update stopped because a wave did not come up healthy in time."""

    rollout_id: int
    version: str
    wave: int  # 0-based
    devices: tuple[str, ...]  # the wave's devices that were not healthy


def _dead_air(device_id: str, reports: Sequence[DeadAir], min_s: float) -> Alert | None:
    long_ones = [r for r in reports if r.duration_s is None or r.duration_s >= min_s]
    if not long_ones:
        return None
    known = [r.duration_s for r in long_ones if r.duration_s is not None]
    first = min(r.started_at for r in long_ones)
    how_long = f"lâu nhất {max(known):.0f} giây" if known else "chưa rõ thời lượng"
    return Alert(
        key=f"dead_air:{device_id}",
        kind="dead_air",
        severity="warning",
        subject=f"Cụm loa {device_id} im lặng trong lúc đang phát",
        text=(
            f"Cụm loa {device_id} báo {len(long_ones)} lần mất tiếng trong lúc phát từ {first:%H:%M} UTC "
            f"({how_long}). Hãy kiểm tra nguồn phát (luồng tiếp sóng hoặc tệp bản tin), bộ khuếch đại và "
            "loa tại cụm; xem nhật ký thiết bị bằng: journalctl -u loaxa-agent."
        ),
    )


def _rollout_failed(failed: FailedRollout | None) -> Alert | None:
    if failed is None:
        return None
    devices = ", ".join(failed.devices) or "không rõ"
    return Alert(
        key=f"rollout_failed:{failed.rollout_id}",
        kind="rollout_failed",
        severity="critical",
        subject=f"Cập nhật loaxa-agent {failed.version} đã dừng ở đợt {failed.wave + 1}",
        text=(
            f"Đợt {failed.wave + 1} của lần cập nhật số {failed.rollout_id} (loaxa-agent {failed.version}) "
            f"không hoạt động tốt đúng hạn trên: {devices}. Các đợt sau không được gửi. Các cụm lỗi tự quay "
            "lại phiên bản trước; hãy xem nhật ký (journalctl -u loaxa-agent-update) trên các cụm đó, rồi "
            f"huỷ lần cập nhật này (loaxa update cancel {failed.rollout_id}) hoặc bắt đầu bản sửa lỗi."
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
    dead_air: Sequence[DeadAir] = (),
    dead_air_min_s: float = 10.0,
    failed_rollout: FailedRollout | None = None,
) -> list[Alert]:
    """Every alert that holds at `now`, in a stable order (dead-air reports older than an hour are past)."""
    found: list[Alert | None] = [
        _broker_down(broker_down_since, now, broker_down_s),
        _rollout_failed(failed_rollout),
    ]
    recent: dict[str, list[DeadAir]] = {}
    for report in dead_air:
        ended = report.started_at + timedelta(seconds=report.duration_s or 0)
        if timedelta(0) <= now - ended <= DEAD_AIR_RECENT:
            recent.setdefault(report.device_id, []).append(report)
    found += [_dead_air(device, recent[device], dead_air_min_s) for device in sorted(recent)]
    for state in states:
        found += [
            _offline_in_window(state, schedule_for(state), now),
            _disk_low(state, disk_low_mb),
            _clock_unsynced(state),
        ]
    return [alert for alert in found if alert is not None]
