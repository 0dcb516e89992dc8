"""The dashboard's SQL reads agree with the per-device views, on SQLite and PostgreSQL."""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from controller.db.models import Device
from controller.services import alert_candidates, device_page, devices_by_id, list_devices, village_tallies
from tests.services.test_uptime_batch import NOW, fleet  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("fleet")


def test_village_tallies_sum_the_per_device_uptime(session: Session) -> None:
    by_village = defaultdict(list)
    for view in list_devices(session, NOW):
        by_village[view.village_id].append(view)
    tallies = village_tallies(session, NOW)
    assert [t.village_id for t in tallies] == sorted(by_village)
    for tally in tallies:
        views = by_village[tally.village_id]
        assert (tally.total, tally.online) == (len(views), sum(v.online for v in views))
        # The database sums seconds (SQLite: from julian days, about a millisecond per span).
        assert tally.uptime_24h == pytest.approx(sum(v.uptime_24h for v in views) / len(views), abs=1e-6)
        assert tally.uptime_7d == pytest.approx(sum(v.uptime_7d for v in views) / len(views), abs=1e-6)
    assert 0 < min(t.uptime_7d for t in tallies) < max(t.uptime_7d for t in tallies) <= 1
    assert [t.total for t in village_tallies(session, NOW, commune_id="nowhere")] == []


def test_alert_candidates_are_the_long_offline_and_the_missing_audio(session: Session) -> None:
    session.get(Device, "tl-c01").metrics = {"assets_missing": 2}  # type: ignore[union-attr]
    session.flush()
    views = list_devices(session, NOW)
    offline = {
        v.id
        for v in views
        if not v.online and (v.last_seen is None or NOW - v.last_seen > timedelta(minutes=15))
    }
    found = alert_candidates(session, NOW, timedelta(minutes=15))
    assert [c.id for c in found] == sorted(offline | {"tl-c01"})
    assert {c.id: c.assets_missing for c in found}["tl-c01"] == 2
    assert [c.id for c in alert_candidates(session, NOW, timedelta(minutes=15), online=True)] == ["tl-c01"]


def test_a_page_is_the_same_slice_of_the_list(session: Session) -> None:
    every = list_devices(session, NOW)
    assert device_page(session, NOW, offset=2, limit=3) == every[2:5]
    offline = [v for v in every if not v.online]
    assert device_page(session, NOW, online=False, offset=0, limit=50) == offline
    assert devices_by_id(session, NOW, [every[4].id, every[1].id]) == [every[1], every[4]]
