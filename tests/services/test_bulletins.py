"""Creating bulletins, every step of the state machine, permissions, targets and audio versions."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from controller.db.models import BULLETIN_STATUSES
from controller.services import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    approve,
    attach_audio,
    cancel,
    create_bulletin,
    expire_bulletins,
    finish,
    get_bulletin,
    list_audit,
    list_bulletins,
    register_asset,
    reject,
    submit,
    target_devices,
)
from controller.services.bulletin_edit import edit_bulletin
from controller.services.bulletins import TRANSITIONS
from tests.services.conftest import T0, World

EXPIRES = T0 + timedelta(days=2)
LATER = T0 + timedelta(days=3)


def new(session: Session, world: World, **fields: Any) -> int:
    values: dict[str, Any] = {
        "title": "Lịch tiêm phòng",
        "text": "Sáng mai 7h30 tiêm phòng dại cho chó mèo tại nhà văn hoá Bản Lìm.",
        "targets": {"all": True},
        "expires_at": EXPIRES,
    }
    values.update(fields)
    return create_bulletin(session, world.operator, T0, **values).id


def bring_to(session: Session, world: World, status: str) -> int:
    """A bulletin by `op`, moved to `status` along the allowed path."""
    bulletin_id = new(session, world)
    if status == "draft":
        return bulletin_id
    if status == "cancelled":
        cancel(session, bulletin_id, world.operator, T0)
        return bulletin_id
    submit(session, bulletin_id, world.operator, T0)
    if status == "rejected":
        reject(session, bulletin_id, world.approver, T0, "Sai giờ")
    elif status in ("approved", "done", "expired"):
        approve(session, bulletin_id, world.approver, T0)
        if status == "done":
            finish(session, bulletin_id, T0)
        if status == "expired":
            assert bulletin_id in expire_bulletins(session, LATER)
    return bulletin_id


def take(session: Session, world: World, step: str, bulletin_id: int) -> None:
    if step == "submit":
        submit(session, bulletin_id, world.operator, T0)
    elif step == "approve":
        approve(session, bulletin_id, world.approver, T0)
    elif step == "reject":
        reject(session, bulletin_id, world.approver, T0, "Chưa đủ thông tin")
    elif step == "cancel":
        cancel(session, bulletin_id, world.operator, T0)
    elif step == "finish":
        finish(session, bulletin_id, T0)
    elif step == "expire" and bulletin_id not in expire_bulletins(session, LATER):
        raise InvalidTransition("not expired")
    elif step == "reopen":  # an edit reopens an approved bulletin; a draft or pending one keeps its status
        before = get_bulletin(session, bulletin_id).status
        edit_bulletin(session, bulletin_id, world.operator, T0, changes={"title": "Lịch mới"})
        if before != "approved":
            raise InvalidTransition(f"an edit leaves a {before} bulletin {before}")


@pytest.mark.parametrize("step", sorted(TRANSITIONS))
def test_every_transition(session: Session, world: World, step: str) -> None:
    sources, target = TRANSITIONS[step]
    for status in BULLETIN_STATUSES:
        bulletin_id = bring_to(session, world, status)
        assert get_bulletin(session, bulletin_id).status == status
        if status in sources:
            take(session, world, step, bulletin_id)
            assert get_bulletin(session, bulletin_id).status == target, (step, status)
            assert (
                list_audit(session, entity="bulletin", entity_id=bulletin_id)[0].action == f"bulletin.{step}"
            )
        else:
            with pytest.raises(InvalidTransition):
                take(session, world, step, bulletin_id)
            assert get_bulletin(session, bulletin_id).status == status, (step, status)


def test_transition_error_names_status_and_allowed_ones(session: Session, world: World) -> None:
    bulletin_id = bring_to(session, world, "rejected")
    with pytest.raises(
        InvalidTransition,
        match=rf"Bản tin số {bulletin_id} đã bị từ chối nên chưa thể làm bước này "
        r"\(duyệt bản tin: chỉ làm được khi bản tin đang chờ duyệt\)",
    ):
        approve(session, bulletin_id, world.approver, T0)


def test_approval_trail(session: Session, world: World) -> None:
    bulletin_id = bring_to(session, world, "approved")
    view = get_bulletin(session, bulletin_id)
    assert (view.author, view.approver, view.submitted_at, view.approved_at) == ("op", "boss", T0, T0)
    rejected = get_bulletin(session, bring_to(session, world, "rejected"))
    assert rejected.reject_reason == "Sai giờ"
    assert rejected.approver == "boss"


def test_roles_are_enforced(session: Session, world: World) -> None:
    with pytest.raises(Forbidden, match=r"Tài khoản eye \(người xem\) không được làm việc này"):
        create_bulletin(session, world.viewer, T0, title="t", text="x", targets={"all": True})
    bulletin_id = new(session, world)
    with pytest.raises(Forbidden, match="với bản tin người khác soạn"):
        submit(session, bulletin_id, world.operator2, T0)
    with pytest.raises(Forbidden):
        cancel(session, bulletin_id, world.operator2, T0)
    submit(session, bulletin_id, world.operator, T0)
    with pytest.raises(Forbidden, match=r"không được làm việc này"):
        approve(session, bulletin_id, world.operator, T0)
    with pytest.raises(Forbidden, match=r"không được làm việc này"):
        reject(session, bulletin_id, world.operator2, T0, "không")
    cancel(session, bulletin_id, world.admin, T0, reason="Trùng lịch")
    assert list_audit(session, entity="bulletin", entity_id=bulletin_id)[0].detail["reason"] == "Trùng lịch"


def test_author_may_not_approve_own_bulletin_unless_allowed(session: Session, world: World) -> None:
    bulletin_id = create_bulletin(
        session, world.admin, T0, title="Tin", text="Nội dung", targets={"all": True}
    ).id
    submit(session, bulletin_id, world.admin, T0)
    with pytest.raises(Forbidden, match="Hãy nhờ người duyệt khác"):
        approve(session, bulletin_id, world.admin, T0)
    assert approve(session, bulletin_id, world.admin, T0, allow_self_approval=True).status == "approved"


def test_reject_needs_a_reason(session: Session, world: World) -> None:
    bulletin_id = bring_to(session, world, "pending")
    with pytest.raises(ValidationFailed, match="Lý do từ chối đang để trống"):
        reject(session, bulletin_id, world.approver, T0, "   ")


def test_text_is_cleaned_and_checked(session: Session, world: World) -> None:
    decomposed = "Thông báo Tú Lệ".replace("ú", "u\u0301")
    view = create_bulletin(
        session, world.operator, T0, title=f"  {decomposed}\n", text=" Nội dung ", targets={"all": True}
    )
    assert view.title == "Thông báo Tú Lệ"
    assert view.text == "Nội dung"
    assert view.schedule == {"mode": "next_window"}
    assert view.priority == "normal"
    with pytest.raises(ValidationFailed, match="Tiêu đề đang để trống"):
        new(session, world, title=" \t ")
    with pytest.raises(ValidationFailed, match="Nội dung dài 5001 ký tự, quá giới hạn 5000 ký tự"):
        new(session, world, text="a" * 5001)
    with pytest.raises(
        ValidationFailed,
        match=r"Mức ưu tiên 'urgent' không có\. Hãy chọn một trong: normal, priority, emergency",
    ):
        new(session, world, priority="urgent")
    with pytest.raises(ValidationFailed, match="Thời điểm hết hạn đã qua"):
        new(session, world, expires_at=T0)


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"all": True, "villages": ["lim"]}, "phải là đúng một trong"),
        ({"all": False}, "targets.all phải là true"),
        ({"villages": []}, "danh sách mã không rỗng"),
        ({"villages": ["lim", "nowhere"]}, "Không có thôn/bản mã nowhere"),
        ({"clusters": ["tl-c99"]}, "Không có cụm loa mã tl-c99"),
        ({"areas": ["99999"]}, "Không có địa bàn mã 99999"),
        ({"hamlets": ["lim"]}, "Khoá nơi phát 'hamlets' không hợp lệ"),
        ("all", "phải là đúng một trong"),
    ],
)
def test_bad_targets(session: Session, world: World, targets: object, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        new(session, world, targets=targets)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (
            {"mode": "dates", "dates": ["2026-11-24", "2026-11-23", "2026-11-24"]},
            {"mode": "dates", "dates": ["2026-11-23", "2026-11-24"]},
        ),
        (
            {"mode": "daily", "days": 3, "windows": ["morning"]},
            {"mode": "daily", "days": 3, "windows": ["morning"]},
        ),
    ],
)
def test_schedules(
    session: Session, world: World, schedule: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert get_bulletin(session, new(session, world, schedule=schedule)).schedule == expected


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            {"mode": "sometime"},
            r"Cách xếp lịch \(schedule.mode\) phải là một trong: next_window, dates, daily",
        ),
        ({"mode": "daily", "days": 0}, "Số ngày phát phải là số nguyên từ 1 đến 31"),
        ({"mode": "dates", "dates": ["23/11/2026"]}, "Ngày phát phải là một ngày viết dạng 2026-12-07"),
        ({"mode": "next_window", "days": 2}, "Cách xếp lịch next_window không dùng days"),
    ],
)
def test_bad_schedules(session: Session, world: World, schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        new(session, world, schedule=schedule)


def test_target_resolution(session: Session, world: World) -> None:
    assert target_devices(session, new(session, world, targets={"all": True})) == [
        "tl-c01",
        "tl-c02",
        "tl-c03",
    ]
    assert target_devices(session, new(session, world, targets={"villages": ["lim"]})) == ["tl-c01", "tl-c02"]
    assert target_devices(session, new(session, world, targets={"clusters": ["tl-c03", "tl-c01"]})) == [
        "tl-c01",
        "tl-c03",
    ]
    view = get_bulletin(session, new(session, world, targets={"villages": ["cai", "cai"]}))
    assert view.targets == {"villages": ["cai"]}
    assert target_devices(session, view) == ["tl-c03"]


def test_submit_refuses_targets_without_devices(session: Session, world: World) -> None:
    bulletin_id = new(session, world, targets={"villages": ["empty"]})
    with pytest.raises(ValidationFailed, match="nơi chưa có cụm loa nào"):
        submit(session, bulletin_id, world.operator, T0)


def test_not_found(session: Session, world: World) -> None:
    with pytest.raises(NotFound, match="Không có bản tin số 999999"):
        get_bulletin(session, 999_999)


def test_list_bulletins(session: Session, world: World) -> None:
    first, second = new(session, world), new(session, world)
    submit(session, second, world.operator, T0)
    assert [b.id for b in list_bulletins(session)] == [second, first]
    assert [b.id for b in list_bulletins(session, status="pending")] == [second]


def test_audio_versions_vietnamese_first(session: Session, world: World) -> None:
    bulletin_id = new(session, world)
    for n, language in enumerate(("thai", "vi", "mong")):
        register_asset(
            session,
            T0,
            sha256=f"{n}" * 64,
            size=1000,
            duration_ms=3000 + n,
            engine="espeak-ng" if language == "vi" else None,
        )
        attach_audio(
            session,
            bulletin_id,
            T0,
            language=language,
            kind="tts" if language == "vi" else "recorded",
            asset_sha256=f"{n}" * 64,
            actor=world.operator,
        )
    view = attach_audio(session, bulletin_id, T0, language="thai", kind="recorded", asset_sha256="2" * 64)
    assert [(a.language, a.position, a.sha256[0]) for a in view.audio] == [
        ("vi", 0, "1"),
        ("thai", 1, "2"),
        ("mong", 2, "2"),
    ]
    assert view.audio[0].engine == "espeak-ng"
    with pytest.raises(NotFound, match="Máy chủ xã không có tệp âm thanh này"):
        attach_audio(session, bulletin_id, T0, language="dao", kind="recorded", asset_sha256="f" * 64)
    with pytest.raises(Forbidden):
        attach_audio(
            session,
            bulletin_id,
            T0,
            language="dao",
            kind="recorded",
            asset_sha256="1" * 64,
            actor=world.operator2,
        )
