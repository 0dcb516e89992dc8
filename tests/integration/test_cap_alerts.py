"""CAP alerts and drills on real parts: the controller (managed mosquitto, SQLite, web) and real agents.

An Extreme/Immediate CAP alert pushed for one commune plays at once on that commune's clusters and on no
cluster of the commune next door, with nobody approving; the Cancel that follows stops its repeats. A
drill from a CAP Exercise the leader polls names, in its report, the cluster whose agent was switched off.
"""

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import select

from controller.db.models import Drill
from tests.cap.support import SENDER, cap_server, fixture
from tests.integration.conftest import Api, Deployment, deployed, wait_for
from tests.integration.test_scheduling import plays, sink_log, speech_seconds

TULE_AGENT, NEIGHBOUR_AGENT = "tule-c01", "ben-c01"


def push(deployment: Deployment, source: dict[str, Any], document: bytes) -> dict[str, Any]:
    """POST a CAP document to the source's push URL with its token (no user signs in)."""
    request = urllib.request.Request(
        source["push_url"],
        data=document,
        method="POST",
        headers={"Content-Type": "application/cap+xml", "Authorization": f"Bearer {source['push_token']}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"push refused: {exc.code} {exc.read()[:500]!r}") from exc
    return body


def add_neighbour_commune(deployment: Deployment) -> None:
    """Xã Bên (04631) beside Tú Lệ in Văn Chấn, one village, one cluster with a running agent."""
    api = deployment.api
    for body in (
        {"code": "04631", "name": "Xã Bên", "level": "commune", "parent": "140"},
        {"code": "ban-ben", "name": "Bản Bên", "level": "village", "parent": "04631", "languages": ["vi"]},
    ):
        status, answer = api.call("POST", "/areas", body, user="admin")
        assert status == 201, answer
    status, answer = api.call(
        "POST",
        "/devices",
        {"id": NEIGHBOUR_AGENT, "name": "Cụm loa Bản Bên", "village": "ban-ben"},
        user="admin",
    )
    assert status == 201, answer
    deployment.passwords[NEIGHBOUR_AGENT] = answer["credentials"]["password"]


def add_source(api: Api) -> dict[str, Any]:
    status, source = api.call(
        "POST", "/cap/sources", {"name": "Đài KTTV Yên Bái", "senders": [SENDER]}, user="admin"
    )
    assert status == 201, source
    return dict(source)


def online(deployment: Deployment, *devices: str) -> bool:
    return all(deployment.device(d)["online"] for d in devices)


def test_an_extreme_alert_plays_on_its_commune_only_and_a_cancel_stops_its_repeats(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=3000, length_s=60) as deployment:
        api = deployment.api
        add_neighbour_commune(deployment)
        tule_home = deployment.start_agent(TULE_AGENT)
        neighbour_home = deployment.start_agent(NEIGHBOUR_AGENT)
        wait_for("both agents online", lambda: online(deployment, TULE_AGENT, NEIGHBOUR_AGENT), timeout=60)
        source = add_source(api)
        now = deployment.controller.clock()
        taken = push(deployment, source, fixture("alert.xml", now, area="04630"))
        assert (taken["status"], taken["action"]) == ("accepted", "emergency"), taken
        bulletin_id = taken["bulletin_id"]
        _, bulletin = api.call("GET", f"/bulletins/{bulletin_id}", user="admin")
        assert (bulletin["status"], bulletin["approver"]) == ("approved", "cap-system.tule")
        started = wait_for(
            "the alert starting on Tú Lệ's cluster",
            lambda: [p for p in plays(api, bulletin_id) if p["device"] == TULE_AGENT],
            timeout=90,
        )
        cancelled = push(
            deployment, source, fixture("cancel.xml", deployment.controller.clock(), area="04630")
        )
        assert cancelled["cancelled"] == [bulletin_id], cancelled
        # The stop reaches the agent while the first play runs: that play ends interrupted.
        wait_for(
            "the playing alert to be stopped",
            lambda: [p for p in plays(api, bulletin_id) if p["status"] == "interrupted"],
            timeout=60,
        )
        # Give a repeat that was wrongly kept its time to start (the 5 s gap and one play), then look.
        time.sleep(5 + speech_seconds(bulletin["text"]) + 5)
        _, bulletin = api.call("GET", f"/bulletins/{bulletin_id}", user="admin")
        assert bulletin["status"] == "cancelled"
        everything = plays(api, bulletin_id)
        assert [(p["device"], p["status"]) for p in everything] == [(TULE_AGENT, "interrupted")]
        assert started[0]["started_at"] is not None
        assert sink_log(neighbour_home) == []  # the commune next door heard nothing
        assert [line["completed"] for line in sink_log(tule_home)] == [False]
        assert NEIGHBOUR_AGENT not in {d["device"] for d in bulletin["deliveries"]}


def test_a_drill_report_names_the_cluster_that_was_switched_off(tmp_path: Path) -> None:
    """The drill comes from a CAP Exercise the leader's job polls from a feed on loopback.

    The running cluster plays it at the source policy's drill volume, not at its own (the plan's 80).
    """
    with (
        cap_server() as (base, served),
        deployed(tmp_path, opens_in_s=3000, length_s=60, cap__poll_s=1) as deployment,
    ):
        api = deployment.api
        running_home = deployment.start_agent("tule-c01")
        deployment.start_agent("tule-c02")  # both clusters of Bản Lìm
        wait_for("both agents online", lambda: online(deployment, "tule-c01", "tule-c02"), timeout=60)
        off = deployment.agents["tule-c02"]
        os.kill(off.pid, signal.SIGTERM)
        off.wait(20)
        body = {"name": "KTTV", "senders": [SENDER], "url": f"{base}/cap", "policy": {"drill_volume": 35}}
        status, source = api.call("POST", "/cap/sources", body, user="admin")
        assert status == 201, source
        served.add("/cap", fixture("exercise.xml", deployment.controller.clock(), area="ban-lim"))

        def drill_id() -> int | None:
            _, page = api.call("GET", f"/cap/sources/{source['id']}", user="admin")
            drills = [a for a in page["recent_alerts"] if a["action"] == "drill"]
            return drills[0]["bulletin_id"] if drills else None

        bulletin_id = wait_for("the leader to poll the Exercise", drill_id, timeout=60)

        def answered() -> dict[str, Any] | None:
            report = drill_report(deployment, bulletin_id)
            done = [a for a in report["acknowledged"] if a["finished_at"]]
            return report if done else None

        report = wait_for("the running cluster to finish the drill", answered, timeout=90)
        assert report["origin"] == "cap" and report["volume"] == 35
        played = [line for line in sink_log(running_home) if line["item_id"].startswith(f"b{bulletin_id}-")]
        assert played and {line["volume"] for line in played} == {35}, sink_log(running_home)
        assert [a["device"] for a in report["acknowledged"]] == ["tule-c01"]
        assert report["acknowledged"][0]["delay_s"] >= 0
        assert [m["device"] for m in report["missing"]] == ["tule-c02"]
        assert report["missing"][0]["last_seen"] is not None  # it was heard from before it went silent
        assert served.hits.count("/cap") >= 1


def drill_report(deployment: Deployment, bulletin_id: int) -> dict[str, Any]:
    """The report of the drill whose bulletin is `bulletin_id`, over REST."""
    with deployment.controller.db.session() as session:
        drill = session.scalar(select(Drill.id).where(Drill.bulletin_id == bulletin_id))
    status, report = deployment.api.call("GET", f"/drills/{drill}", user="operator")
    assert status == 200, report
    return dict(report)
