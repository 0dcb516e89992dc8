"""POST /api/v1/emergencies and the UI's button are one use case with one rule (docs/security.md)."""

from dataclasses import replace

from controller import services
from controller.services.errors import NotFound
from controller.usecases import Announcer, BulletinDraft, BulletinUseCases
from tests.web.conftest import Runtime
from web import WebContext, create_app

FLOOD = {"title": "Lũ quét", "text": "Sơ tán ngay lên điểm cao.", "targets": {"all": True}}


def test_an_approver_alone_puts_an_emergency_on_air(context: WebContext, runtime: Runtime) -> None:
    client = create_app(context).test_client()
    answer = client.post("/api/v1/emergencies", json=FLOOD, headers=runtime.auth("approver"))
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "approved" and runtime.changed == [answer.json["id"]]
    with runtime.db.session() as db:
        view = services.get_bulletin(db, answer.json["id"])
        trail = [e.action for e in services.list_audit(db, entity="bulletin", entity_id=view.id)]
    assert view.priority == "emergency"
    assert trail[0] == "bulletin.emergency_one_person"  # newest first: reviewable after the fact


def test_under_the_two_person_rule_it_waits_for_a_second_approver(
    context: WebContext, runtime: Runtime
) -> None:
    settings = context.settings.model_copy(update={"emergency_two_person": True})
    client = create_app(replace(context, settings=settings)).test_client()
    first = client.post("/api/v1/emergencies", json=FLOOD, headers=runtime.auth("approver"))
    assert (first.status_code, first.json["status"]) == (201, "pending")
    bulletin_id = first.json["id"]
    same = client.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=runtime.auth("approver"))
    assert same.status_code == 403
    second = client.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=runtime.auth("approver2"))
    assert second.json["status"] == "approved"
    with runtime.db.session() as db:
        trail = [e.action for e in services.list_audit(db, entity="bulletin", entity_id=bulletin_id)]
    assert "bulletin.emergency_one_person" not in trail


def test_operators_may_not_and_bad_targets_are_refused(context: WebContext, runtime: Runtime) -> None:
    client = create_app(context).test_client()
    assert client.post("/api/v1/emergencies", json=FLOOD, headers=runtime.auth("operator")).status_code == 403
    nowhere = client.post(
        "/api/v1/emergencies", json={**FLOOD, "targets": {"villages": []}}, headers=runtime.auth("approver")
    )
    assert nowhere.status_code == 422
    assert runtime.changed == []
    with runtime.db.session() as db:
        assert services.list_bulletins(db, status="approved") == []


def test_a_use_case_announces_only_what_it_committed(runtime: Runtime) -> None:
    heard: list[int] = []
    bulletins = BulletinUseCases(runtime.db, lambda: runtime.now, Announcer(heard.append))
    with runtime.db.session() as db:
        operator = services.get_user(db, "operator")
        services.create_commune(db, "xa-ben", "Xã bên", runtime.now)
        neighbour = services.create_user(
            db, "ban-xa-ben", "mat-khau-dai-1", "operator", runtime.now, commune_id="xa-ben"
        )
    draft = BulletinDraft(title="Họp thôn", text="Mời bà con họp lúc 8 giờ.", targets={"all": True})
    view = bulletins.create(operator, draft, submit=True)
    assert (view.status, heard) == ("pending", [view.id])
    try:
        bulletins.cancel(neighbour, view.id)  # another commune's bulletin looks like none
    except NotFound:
        pass
    else:
        raise AssertionError("a user of another commune cancelled the bulletin")
    assert heard == [view.id]
    with runtime.db.session() as db:
        assert services.get_bulletin(db, view.id).status == "pending"
