"""The scheduler leader's uptime-rollup job (issue 18) on the running controller: registered, and each run
leaves every village with clusters a row as of the controller's clock (the pages above a commune read it)."""

from pathlib import Path

from sqlalchemy import select

from controller import services
from controller.db.models import VillageUptime
from tests.integration.conftest import deployed, wait_for


def test_the_leaders_job_rolls_up_every_villages_uptime(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=600, length_s=60) as deployment:
        controller = deployment.controller
        wait_for("the scheduler leadership", lambda: controller.leadership.is_leader or None, timeout=30)
        job = controller.jobs.get_job("uptime-rollup")
        assert job is not None
        job.func()  # what the scheduler runs every minute, now instead of in a minute
        now = controller.clock()
        with controller.db.session() as session:
            rows = session.execute(select(VillageUptime.village_id, VillageUptime.computed_at)).all()
            current = services.current_tallies(session, now)
        with_clusters = {t.village_id for t in current.villages}
        assert len(with_clusters) == 9  # the demo commune: 9 villages, 12 clusters
        assert {village for village, _ in rows} == with_clusters
        assert current.uptime_at == max(at for _, at in rows) <= now
