"""The uptime rollup: stored per village by the leader's job, read while fresh, summed again when not,
with the counts of clusters and of those online always as they are now; on SQLite and PostgreSQL."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import VillageUptime
from controller.services import (
    VillageTally,
    current_tallies,
    provision_device,
    record_status,
    refresh_village_uptime,
    village_tallies,
)
from controller.services.uptime_rollup import FRESH_FOR
from protocol import Status
from tests.services.test_uptime_batch import NOW, fleet  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("fleet")
EARLIER = NOW - timedelta(minutes=2)


def _uptimes(tallies: list[VillageTally]) -> dict[str, tuple[float, float]]:
    return {t.village_id: (t.uptime_24h, t.uptime_7d) for t in tallies}


def _counts(tallies: list[VillageTally]) -> dict[str, tuple[int, int]]:
    return {t.village_id: (t.total, t.online) for t in tallies}


def test_a_fresh_rollup_gives_its_uptime_with_the_counts_of_now(session: Session) -> None:
    assert refresh_village_uptime(session, EARLIER) == 2  # lim and cai have clusters; empty has none
    # tl-c03 goes offline after the run: the count of those online is the present one.
    record_status(session, "tl-c03", Status("offline", bdseq=1), NOW - timedelta(minutes=1))
    session.flush()
    current = current_tallies(session, NOW)
    assert current.uptime_at == EARLIER
    assert _uptimes(current.villages) == _uptimes(village_tallies(session, EARLIER))
    assert _counts(current.villages) == _counts(village_tallies(session, NOW))
    assert _uptimes(current.villages) != _uptimes(village_tallies(session, NOW))  # the spans moved on


def test_a_new_run_replaces_the_rows(session: Session) -> None:
    refresh_village_uptime(session, EARLIER - timedelta(minutes=1))
    refresh_village_uptime(session, EARLIER)
    rows = session.execute(select(func.count(), func.min(VillageUptime.computed_at))).one()
    assert tuple(rows) == (2, EARLIER)


@pytest.mark.parametrize(
    "computed", [None, NOW - FRESH_FOR, NOW - FRESH_FOR - timedelta(minutes=1), NOW + timedelta(seconds=1)]
)
def test_a_missing_stale_or_future_rollup_is_summed_from_the_spans(
    session: Session, computed: datetime | None
) -> None:
    if computed is not None:
        refresh_village_uptime(session, computed)
    current = current_tallies(session, NOW)
    assert current.uptime_at == NOW
    assert current.villages == village_tallies(session, NOW)


def test_a_village_without_a_row_is_summed_from_the_spans(session: Session) -> None:
    refresh_village_uptime(session, EARLIER)
    provision_device(session, "tl-empty", NOW - timedelta(minutes=1), name="Cụm trống", village_id="empty")
    session.flush()
    current = current_tallies(session, NOW)
    assert current.uptime_at == NOW
    assert [t.village_id for t in current.villages] == ["cai", "empty", "lim"]
    assert current.villages == village_tallies(session, NOW)
