"""The as-run log query: filters by time, device and bulletin; plans mark deliveries planned."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from controller.services import (
    Conflict,
    StoredPlan,
    ValidationFailed,
    current_plan,
    get_bulletin,
    list_plays,
    mark_plan_published,
    next_plan_version,
    record_event,
    save_plan,
)
from protocol import Asset, PlanBody, PlanItem, WindowSpec
from tests.services.conftest import T0, World
from tests.services.test_ingest import approved_bulletin, event


def play(session: Session, device: str, seq: int, item: str, at: datetime) -> None:
    record_event(session, device, event(seq, "started", at, item), at)
    record_event(session, device, event(seq + 1, "finished", at + timedelta(seconds=40), item), at)


def test_filters(session: Session, world: World) -> None:
    first, second = approved_bulletin(session, world), approved_bulletin(session, world)
    play(session, "tl-c01", 1, f"b{first}-tl-c01", T0)
    play(session, "tl-c01", 3, f"b{second}-tl-c01", T0 + timedelta(hours=1))
    play(session, "tl-c02", 1, f"b{first}-tl-c02", T0 + timedelta(hours=2))
    assert len(list_plays(session)) == 3
    assert [p.bulletin_id for p in list_plays(session, device_id="tl-c01")] == [first, second]
    assert [p.device_id for p in list_plays(session, bulletin_id=first)] == ["tl-c01", "tl-c02"]
    window = list_plays(session, start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=2))
    assert [(p.device_id, p.bulletin_id) for p in window] == [("tl-c01", second)]
    assert list_plays(session, limit=1, offset=2)[0].device_id == "tl-c02"
    with pytest.raises(ValidationFailed, match=r"Ngày kết thúc phải sau ngày bắt đầu"):
        list_plays(session, start=T0, end=T0)


def test_saving_a_plan_marks_deliveries_planned(session: Session, world: World) -> None:
    bulletin_id = approved_bulletin(session, world)
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    item = PlanItem(
        item_id=f"b{bulletin_id}-tl-c03",
        bulletin_id=bulletin_id,
        priority="normal",
        asset=Asset(sha256="a" * 64, bytes=1000, duration_ms=4000, url="http://x/a"),
        not_before=start,
        not_after=start + timedelta(hours=2),
        planned_start=start,
    )
    assert next_plan_version(session, "tl-c03") == 1
    body = PlanBody(
        version=1,
        generated_at=T0,
        timezone="Asia/Ho_Chi_Minh",
        windows=(WindowSpec("evening", "17:00:00", "19:00:00"),),
        items=(item,),
    )
    save_plan(session, "tl-c03", body, T0)
    assert current_plan(session, "tl-c03") == StoredPlan(1, body.to_json())
    assert mark_plan_published(session, "tl-c03", 1, T0)
    assert not mark_plan_published(session, "tl-c03", 7, T0)
    delivery = next(d for d in get_bulletin(session, bulletin_id).deliveries if d.device_id == "tl-c03")
    assert (delivery.state, delivery.item_id, delivery.planned_start) == ("planned", item.item_id, start)
    with pytest.raises(Conflict, match="plan version 1 for 'tl-c03' is not above the stored version 1"):
        save_plan(session, "tl-c03", body, T0)
    assert next_plan_version(session, "tl-c03") == 2
