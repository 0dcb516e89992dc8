"""Reading the agents' dead-air spans for the alert rule (controller.services.dead_air)."""

from datetime import timedelta

from sqlalchemy.orm import Session

from controller.db.models import DeadAir
from controller.services.dead_air import dead_air_reports
from tests.services.conftest import T0, World


def _span(device: str, seq: int, start_min: int, length_s: float, *, ongoing: bool = False) -> DeadAir:
    start = T0 + timedelta(minutes=start_min)
    return DeadAir(
        device_id=device, item_id="b1-0", session=None, started_at=start,
        ended_at=start + timedelta(seconds=length_s), kind="silent", ongoing=ongoing, seq=seq,
    )  # fmt: skip


def test_dead_air_spans_since_a_time_with_their_length(session: Session, world: World) -> None:
    session.add_all(
        [
            _span("tl-c01", 1, 0, 42.5),
            _span("tl-c01", 2, 10, 17),
            _span("tl-c02", 1, 12, 11, ongoing=True),  # still silent: its length so far
            _span("tl-c03", 1, -90, 30),  # ended before `since`
        ]
    )
    session.flush()
    assert dead_air_reports(session, T0 - timedelta(minutes=60)) == [
        ("tl-c01", T0, 42.5),
        ("tl-c01", T0 + timedelta(minutes=10), 17.0),
        ("tl-c02", T0 + timedelta(minutes=12), 11.0),
    ]
