"""Alert rules are a pure function of the fleet's state and `now`; the engine announces each once."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.alerts import Alert, AlertEngine, evaluate
from controller.planning import load_schedule
from controller.services.fleet_status import ClusterState

SCHEDULE = load_schedule(Path("schedules/default.toml"))  # 05:00-07:30 and 17:00-19:00 Asia/Ho_Chi_Minh
IN_WINDOW = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # 06:30 local
OUTSIDE = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # 12:00 local


def _state(
    device: str, *, online: bool = True, synced: bool | None = True, disk: float | None = 900
) -> ClusterState:
    return ClusterState(device, "ban-lim", online, synced, disk, "0.1.0")


def _kinds(states: list[ClusterState], now: datetime, down_since: datetime | None = None) -> list[str]:
    alerts = evaluate(
        states, lambda _s: SCHEDULE, now, broker_down_since=down_since, disk_low_mb=200, broker_down_s=60
    )
    return [f"{a.kind}:{a.key.split(':')[1] if ':' in a.key else ''}" for a in alerts]


def test_offline_counts_only_inside_a_window() -> None:
    states = [_state("tule-c01", online=False), _state("tule-c02")]
    assert _kinds(states, IN_WINDOW) == ["cluster_offline:tule-c01"]
    assert _kinds(states, OUTSIDE) == []


def test_disk_low_and_clock_unsynced() -> None:
    states = [_state("tule-c01", disk=150.0), _state("tule-c02", synced=False), _state("tule-c03", disk=None)]
    assert _kinds(states, OUTSIDE) == ["disk_low:tule-c01", "clock_unsynced:tule-c02"]
    # An offline cluster's last heartbeat says nothing about its clock now.
    assert _kinds([_state("tule-c02", online=False, synced=False)], OUTSIDE) == []


def test_broker_down_only_after_its_grace() -> None:
    assert _kinds([], OUTSIDE, down_since=OUTSIDE - timedelta(seconds=30)) == []
    assert _kinds([], OUTSIDE, down_since=OUTSIDE - timedelta(seconds=61)) == ["broker_down:"]


class _Flaky:
    name = "flaky"

    def __init__(self) -> None:
        self.up = False
        self.got: list[tuple[str, bool]] = []

    def send(self, alert: Alert, resolved: bool) -> None:
        if not self.up:
            raise ConnectionError("mail server down")
        self.got.append((alert.key, resolved))


def test_each_alert_is_sent_once_when_it_starts_and_once_when_it_ends_and_retried_after_a_failure() -> None:
    channel = _Flaky()
    engine = AlertEngine([channel])
    alert = Alert("disk_low:tule-c01", "disk_low", "warning", "s", "t")
    engine.update([alert])
    assert channel.got == [] and engine.failed["flaky"] == 1
    channel.up = True
    engine.update([alert])  # still firing: only the missed notification goes out
    engine.update([alert])
    engine.update([])
    assert channel.got == [("disk_low:tule-c01", False), ("disk_low:tule-c01", True)]
    assert engine.sent["flaky"] == 2
