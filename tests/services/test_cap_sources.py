"""CAP sources, their counters, the alerts they sent, public bulletins and drill reports, on both backends."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller import services
from controller.db import Device, Play
from controller.services import cap_sources, cap_targets, drills, public_feeds
from controller.services.errors import Conflict, NotFound, ValidationFailed
from tests.services.conftest import T0, World


def new_source(session: Session, name: str = "KTTV") -> int:
    view, token = cap_sources.create_source(
        session, T0, name=name, url=None, senders=["a@kttv.vn"], certificate=None, policy=None, actor="root"
    )
    assert cap_sources.source_for_push_token(session, view.id, token) == view.id
    assert cap_sources.source_for_push_token(session, view.id, token + "x") is None
    return view.id


def test_sources_count_refusals_by_reason_and_keep_the_newest(session: Session) -> None:
    source = new_source(session)
    with pytest.raises(Conflict):
        new_source(session)
    for n in range(25):
        cap_sources.count_refusal(
            session, source, T0 + timedelta(seconds=n), reason="expired", message=f"m{n}"
        )
    cap_sources.count_refusal(session, source, T0, reason="bad_signature", message="x", where="push")
    cap_sources.count_accepted(session, source)
    view = cap_sources.get_source(session, source)
    assert view.counters == {"accepted": 1, "refused": 26, "expired": 25, "bad_signature": 1}
    assert len(view.last_errors) == cap_sources.MAX_LAST_ERRORS
    assert [e["reason"] for e in view.last_errors[:2]] == ["bad_signature", "expired"]
    assert view.last_errors[1]["message"] == "m24"
    assert view.policy.default == "inbox" and view.policy.rules[0].action == "emergency"
    with pytest.raises(NotFound):
        cap_sources.get_source(session, source + 1)


def test_source_checks(session: Session) -> None:
    cases: list[dict[str, object]] = [
        {"senders": []},
        {"certificate": "x"},
        {"policy": {"default": "shout"}},
        {"url": "file:///x"},
    ]
    for bad in cases:
        arguments = {"name": "N", "url": None, "senders": ["a@b.vn"], "certificate": None, "policy": None}
        with pytest.raises(ValidationFailed):
            cap_sources.create_source(session, T0, **{**arguments, **bad}, actor="root")  # type: ignore[arg-type]


def test_an_alert_is_remembered_once_per_sender_and_identifier(session: Session) -> None:
    source = new_source(session)

    def remember() -> None:
        cap_sources.remember_alert(
            session, T0, source_id=source, sender="a@kttv.vn", identifier="X1", sent=T0, status="Actual",
            msg_type="Alert", action="emergency", expires_at=None, bulletin_id=None,
        )  # fmt: skip

    remember()
    found = cap_sources.find_alert(session, "a@kttv.vn", "X1")
    assert found is not None and found.action == "emergency"
    assert cap_sources.find_alert(session, "b@kttv.vn", "X1") is None
    with pytest.raises(IntegrityError):
        remember()


def test_system_actor_is_made_once_and_cannot_sign_in(session: Session) -> None:
    first = cap_sources.system_actor(session, T0)
    assert cap_sources.system_actor(session, T0) == first
    assert (first.username, first.role, first.commune_id) == ("cap-system", "admin", None)
    with pytest.raises(services.AuthenticationFailed):
        services.authenticate(session, "cap-system", "!")
    services.create_commune(session, "tl", "Xã Tú Lệ", T0)
    commune = cap_sources.system_actor(session, T0, "tl")
    assert (commune.username, commune.commune_id) == ("cap-system.tl", "tl")
    assert cap_sources.system_user_ids(session) == {first.id, commune.id}


def test_area_codes_and_points_find_villages(session: Session, world: World) -> None:
    assert cap_targets.villages_under(session, ["tl"]) == {"lim", "cai", "empty"}
    assert cap_targets.villages_under(session, ["nowhere"]) == set()
    assert cap_targets.villages_with_devices(session, ["lim", "cai", "empty"]) == ["cai", "lim"]
    assert cap_targets.village_points(session) == {}


def test_drill_report_and_public_rule(session: Session, world: World) -> None:
    view = services.create_bulletin(
        session, world.approver, T0, title="Phát thử", text=drills.DRILL_TEXT, priority="emergency",
        targets={"villages": ["lim"]}, permission="emergency.broadcast",
    )  # fmt: skip
    services.submit(session, view.id, world.approver, T0, permission="emergency.broadcast")
    services.approve(session, view.id, world.approver, T0, allow_self_approval=True)
    drill_id = drills.record_drill(
        session, T0, bulletin_id=view.id, origin="manual", started_by="boss", volume=45
    )
    with pytest.raises(ValueError, match="0–100"):
        drills.record_drill(session, T0, bulletin_id=view.id, origin="manual", started_by="boss", volume=101)
    session.get(Device, "tl-c02").last_seen = T0 - timedelta(minutes=3)  # type: ignore[union-attr]
    session.add(
        Play(
            device_id="tl-c01", bulletin_id=view.id, item_id="i", seq=1, started_at=T0 + timedelta(seconds=2),
            finished_at=T0 + timedelta(seconds=9), status="interrupted", reason="dead_air",
        )
    )  # fmt: skip
    session.flush()
    report = drills.drill_report(session, drill_id)
    assert report.volume == 45
    assert drills.drill_volumes(session, [view.id, view.id + 1]) == {view.id: 45}
    assert drills.drill_volumes(session, []) == {}
    assert [(a.device_id, a.delay, a.problem) for a in report.acknowledged] == [
        ("tl-c01", timedelta(seconds=2), "dead_air")
    ]
    assert [(m.device_id, m.last_seen) for m in report.missing] == [("tl-c02", T0 - timedelta(minutes=3))]
    # A drill is never public, even though it is an approved emergency that played.
    assert public_feeds.public_bulletins(session) == []
    assert drills.drill_bulletin_ids(session) == {view.id}
