"""The dead-air and failed-rollout alert rules: pure functions of their plain inputs and `now`."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.alerts import evaluate
from controller.alerts.rules import DeadAir, FailedRollout
from controller.planning import load_schedule

SCHEDULE = load_schedule(Path("schedules/default.toml"))
NOW = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def _alerts(
    dead_air: list[DeadAir], failed: FailedRollout | None = None, now: datetime = NOW
) -> dict[str, str]:
    found = evaluate(
        [], lambda _s: SCHEDULE, now, broker_down_since=None, disk_low_mb=200, broker_down_s=60,
        dead_air=dead_air, dead_air_min_s=10, failed_rollout=failed,
    )  # fmt: skip
    return {alert.key: alert.text for alert in found}


def _silence(device: str, minutes_ago: float, seconds: float | None) -> DeadAir:
    return DeadAir(device, NOW - timedelta(minutes=minutes_ago), seconds)


def test_dead_air_fires_per_cluster_for_long_recent_silences_only() -> None:
    alerts = _alerts(
        [
            _silence("tule-c01", 5, 42.0),
            _silence("tule-c01", 20, 12.0),
            _silence("tule-c02", 5, 3.0),  # a blip shorter than the threshold
            _silence("tule-c03", 90, 30.0),  # ended more than an hour ago
            _silence("tule-c04", 2, None),  # length not said: counted
        ]
    )
    assert sorted(alerts) == ["dead_air:tule-c01", "dead_air:tule-c04"]
    assert "2 lần" in alerts["dead_air:tule-c01"] and "lâu nhất 42 giây" in alerts["dead_air:tule-c01"]
    assert "chưa rõ thời lượng" in alerts["dead_air:tule-c04"]
    # A silence that lasted 50 minutes, begun 70 minutes ago, ended 20 minutes ago: still recent.
    assert list(_alerts([_silence("tule-c05", 70, 3000.0)])) == ["dead_air:tule-c05"]
    # An hour and a minute later, nothing recent is left: the alert ends.
    assert _alerts([_silence("tule-c01", 5, 42.0)], now=NOW + timedelta(minutes=61)) == {}


def test_a_failed_rollout_is_alerted_until_it_is_acknowledged() -> None:
    failed = FailedRollout(rollout_id=7, version="0.2.0-1", wave=1, devices=("tule-c02", "tule-c05"))
    text = _alerts([], failed)["rollout_failed:7"]
    assert "đợt 2" in text.lower() and "tule-c02, tule-c05" in text and "loaxa update cancel 7" in text
    assert _alerts([], None) == {}
