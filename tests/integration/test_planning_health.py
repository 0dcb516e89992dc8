"""Health reports planning that leaves a bulletin out (issue 20, item 1), on the running controller."""

from pathlib import Path
from typing import Any

from sqlalchemy import update

from controller import services
from controller.db.models import Bulletin
from loaxa.runtime import Controller
from tests.integration.conftest import deployed, wait_for


def _approved_with_stored_schedule(controller: Controller, schedule: dict[str, object]) -> int:
    """An approved bulletin whose stored schedule an older version let through (9999-12-31)."""
    now = controller.clock()
    sha256 = controller.store.put(b"speech")
    with controller.db.session() as session:
        services.register_asset(session, now, sha256=sha256, size=6, duration_ms=1000, language="vi")
        users = {u.username: u for u in services.list_users(session)}
        created = services.create_bulletin(
            session, users["operator"], now, title="Lịch hỏng", text="Họp dân.", targets={"all": True}
        )
        services.attach_audio(session, created.id, now, language="vi", kind="tts", asset_sha256=sha256)
        services.submit(session, created.id, users["operator"], now)
        services.approve(session, created.id, users["approver"], now)
        session.execute(update(Bulletin).where(Bulletin.id == created.id).values(schedule=schedule))
    return created.id


def _left_out(answer: tuple[int, Any]) -> tuple[int, Any] | None:
    return answer if answer[1]["planning"]["left_out"] else None


def test_health_names_a_bulletin_that_planning_left_out(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=600, length_s=60) as deployment:
        controller = deployment.controller
        status, healthy = deployment.api.call("GET", "/health")
        assert (status, healthy["status"], healthy["planning"]["state"]) == (200, "ok", "ok")

        bad = _approved_with_stored_schedule(
            controller, {"mode": "daily", "days": 31, "start_date": "9999-12-31"}
        )
        controller.request_replan()  # coalesces with a run already queued, if any
        status, report = wait_for(
            "a planning run that left the bulletin out",
            lambda: _left_out(deployment.api.call("GET", "/health")),
            timeout=60,
        )
        assert status == 200 and report["status"] == "degraded"
        assert report["planning"]["state"] == "partial"
        [left_out] = report["planning"]["left_out"]
        assert left_out["bulletin_id"] == bad and "OverflowError" in left_out["reason"]
