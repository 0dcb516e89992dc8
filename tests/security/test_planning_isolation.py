"""One bad bulletin never stops planning for everyone (issue 20, item 1).

Dates far in the future are refused where they enter (the API); a bulletin that still cannot be planned
(stored by an older version, or failing for a reason nobody foresaw) is left out of the planning run with
its reason, every other bulletin is planned, and health says planning is failing.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from controller import services
from controller.db.models import Bulletin
from tests.security.test_signed_control import NOW, _dispatcher
from tests.web.conftest import Runtime

DRAFT = {"title": "Họp dân", "text": "Tối nay họp dân.", "targets": {"all": True}}
FAR = [
    {"mode": "daily", "days": 31, "start_date": "9999-12-31"},
    {"mode": "daily", "days": 31, "start_date": "9999-12-01"},
    {"mode": "dates", "dates": ["9999-12-31"]},
    {"mode": "dates", "dates": ["0001-01-01"]},
    {"mode": "next_window", "expires_at": "9999-12-31T23:59:59+00:00"},
]


@pytest.mark.parametrize("schedule", FAR)
def test_dates_beyond_the_planning_horizon_are_refused_at_the_edge(
    client: FlaskClient, runtime: Runtime, schedule: dict[str, Any]
) -> None:
    answer = client.post(
        "/api/v1/bulletins", json={**DRAFT, "schedule": schedule}, headers=runtime.auth("operator")
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "validation_failed"
    with runtime.db.session() as session:
        assert services.list_bulletins(session) == []


def _approved(runtime: Runtime, title: str) -> int:
    sha256 = runtime.add_asset(title.encode())
    with runtime.db.session() as session:
        users = {u.username: u for u in services.list_users(session)}
        created = services.create_bulletin(
            session, users["operator"], NOW, title=title, text="Tối nay họp dân.", targets={"all": True}
        )
        services.attach_audio(session, created.id, NOW, language="vi", kind="tts", asset_sha256=sha256)
        services.submit(session, created.id, users["operator"], NOW)
        services.approve(session, created.id, users["approver"], NOW)
    return created.id


@pytest.mark.parametrize("stored", FAR[:3])
def test_a_bulletin_that_cannot_be_planned_is_skipped_with_its_reason(
    runtime: Runtime, tmp_path: Path, stored: dict[str, Any]
) -> None:
    bad, good = _approved(runtime, "Lịch hỏng"), _approved(runtime, "Lịch tốt")
    with runtime.db.session() as session:  # stored before dates were bounded at the edge
        session.execute(update(Bulletin).where(Bulletin.id == bad).values(schedule=stored))
    dispatcher, _recorder, _key = _dispatcher(runtime, tmp_path, [NOW + timedelta(minutes=1)])
    report = dispatcher.replan()
    assert report.published, "the good bulletin is planned and published"
    planned = {item.bulletin_id for d in dispatcher.preview().devices for item in d.items}
    assert planned == {good}
    [failure] = dispatcher.planning_failures
    assert failure.bulletin_id == bad
    assert "OverflowError" in failure.reason or "date" in failure.reason
    assert report.failed == (bad,)
