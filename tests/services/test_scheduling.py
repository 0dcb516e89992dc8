"""Schedule options, edits after approval and the two-person rule for emergencies (issue 4)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from controller.planning import parse_schedule
from controller.services import (
    Forbidden,
    ValidationFailed,
    approve,
    create_bulletin,
    get_bulletin,
    plan_delivery,
    submit,
)
from controller.services.bulletin_edit import edit_bulletin
from tests.services.conftest import T0, World, add_user

WINDOWS = parse_schedule(
    {
        "timezone": "Asia/Ho_Chi_Minh",
        "window": [
            {"name": "morning", "start": "05:00", "end": "07:30"},
            {"name": "evening", "start": "17:00", "end": "19:00"},
        ],
    },
    "test",
)


def _new(session: Session, world: World, schedule: object = None, priority: str = "normal") -> int:
    return create_bulletin(
        session, world.operator, T0, title="Họp dân", text="Tối nay 19h họp dân tại nhà văn hoá.",
        priority=priority, targets={"villages": ["lim"]}, schedule=schedule, windows=WINDOWS,
    ).id  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "stored"),
    [
        (
            {
                "mode": "daily",
                "days": 7,
                "start_date": "2026-11-23",
                "weekdays": [0, 2],
                "windows": ["evening"],
            },
            {
                "mode": "daily",
                "days": 7,
                "start_date": "2026-11-23",
                "weekdays": [0, 2],
                "windows": ["evening"],
            },
        ),
        (
            {"mode": "next_window", "start_time": "17:30", "repeat": 2},
            {"mode": "next_window", "start_time": "17:30:00", "repeat": 2},
        ),
        (
            {"expires_at": "2026-11-30T12:00:00+07:00", "emergency_repeat": 5, "emergency_gap_s": 10},
            {
                "mode": "next_window",
                "expires_at": "2026-11-30T05:00:00+00:00",
                "emergency_repeat": 5,
                "emergency_gap_s": 10,
            },
        ),
    ],
)
def test_schedule_options_are_stored_checked(
    session: Session, world: World, schedule: dict[str, Any], stored: dict[str, Any]
) -> None:
    view = get_bulletin(session, _new(session, world, schedule))
    assert view.schedule == stored
    if "expires_at" in stored:
        assert view.expires_at == datetime(2026, 11, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"windows": ["noon"]}, "Không có khung giờ phát tên noon. Các khung giờ là: morning, evening"),
        ({"start_time": "12:00"}, "Giờ bắt đầu 12:00 nằm ngoài các khung giờ đã chọn"),
        (
            {"windows": ["morning"], "start_time": "17:30"},
            "nằm ngoài các khung giờ đã chọn (morning 05:00–07:30)",
        ),
        ({"repeat": 0}, "Số lần phát phải là số nguyên từ 1 đến 10"),
        (
            {"mode": "daily", "days": 2, "start_date": "2026-11-23", "weekdays": [5]},
            "Không thứ nào đã chọn rơi vào 2 ngày tính từ 23/11/2026",
        ),
        (
            {"mode": "daily", "days": 2, "weekdays": [7]},
            "Hãy chọn các thứ trong tuần từ thứ Hai đến Chủ nhật",
        ),
        ({"expires_at": "tomorrow"}, "Thời điểm hết hạn phải là ngày giờ kèm múi giờ"),
        (
            {"emergency_gap_s": 601},
            "Khoảng nghỉ giữa các lần phát khẩn cấp (giây) phải là số nguyên từ 0 đến 600",
        ),
    ],
)
def test_bad_schedule_options_say_what_to_fix(
    session: Session, world: World, schedule: dict[str, Any], message: str
) -> None:
    with pytest.raises(
        ValidationFailed,
        match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]"),
    ):
        _new(session, world, schedule)


def test_editing_an_approved_bulletin_sends_it_back_for_approval(session: Session, world: World) -> None:
    bulletin_id = _new(session, world)
    submit(session, bulletin_id, world.operator, T0)
    approve(session, bulletin_id, world.approver, T0)
    plan_delivery(session, T0, bulletin_id=bulletin_id, device_id="tl-c01", item_id="x", planned_start=T0)
    view = edit_bulletin(
        session,
        bulletin_id,
        world.operator,
        T0,
        changes={"text": "Họp dân lúc 20h.", "schedule": {"repeat": 2}},
    )
    assert (view.status, view.approved_at, view.deliveries) == ("pending", None, ())
    assert view.schedule == {"mode": "next_window", "repeat": 2, "revision": 1}
    assert view.text == "Họp dân lúc 20h."
    # Sending the stored schedule back unchanged is no change at all.
    again = edit_bulletin(session, bulletin_id, world.operator, T0, changes={"schedule": view.schedule})
    assert again.schedule == view.schedule
    assert approve(session, bulletin_id, world.approver, T0).status == "approved"


def test_an_emergency_under_the_two_person_rule_needs_two_approvers(session: Session, world: World) -> None:
    bulletin_id = _new(session, world, priority="emergency")
    submit(session, bulletin_id, world.operator, T0)
    first = approve(session, bulletin_id, world.approver, T0, two_person_emergency=True)
    assert first.status == "pending"
    with pytest.raises(Forbidden, match="cần hai người khác nhau duyệt"):
        approve(session, bulletin_id, world.approver, T0, two_person_emergency=True)
    second = add_user(session, "deputy", "approver")
    assert approve(session, bulletin_id, second, T0, two_person_emergency=True).status == "approved"
