"""Reading the agents' dead-air reports for the alert rule (controller.services.dead_air)."""

from datetime import timedelta

from sqlalchemy.orm import Session

from controller.db.models import DeviceEvent
from controller.services.dead_air import dead_air_reports
from tests.services.conftest import T0, World


def _event(device: str, seq: int, kind: str, minutes: int, reason: str | None) -> DeviceEvent:
    at = T0 + timedelta(minutes=minutes)
    return DeviceEvent(
        device_id=device, seq=seq, type=kind, at=at, received_at=at, boot_id="b1", reason=reason
    )


def test_dead_air_events_since_a_time_with_their_length_when_said(session: Session, world: World) -> None:
    session.add_all(
        [
            _event("tl-c01", 1, "dead_air", 0, "duration_s=42.5"),
            _event("tl-c01", 2, "dead_air", 10, "17"),
            _event("tl-c02", 1, "dead_air", 12, "relay_down"),  # no length said
            _event("tl-c02", 2, "finished", 12, None),  # not dead air
            _event("tl-c03", 1, "dead_air", -90, "30"),  # before `since`
        ]
    )
    session.flush()
    assert dead_air_reports(session, T0 - timedelta(minutes=60)) == [
        ("tl-c01", T0, 42.5),
        ("tl-c01", T0 + timedelta(minutes=10), 17.0),
        ("tl-c02", T0 + timedelta(minutes=12), None),
    ]
