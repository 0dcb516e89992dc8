"""Broadcast scheduling on real parts (issue 4): a window filled beyond its capacity, a cancel during
playback, and an emergency during a window; real controller, real mosquitto, real agent processes.

Window lengths are computed from the real speech durations (rendered here first with the same engine, so
the controller's render gives the same lengths), so the tests hold whatever the voice's speed.
"""

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from controller import services
from controller.assets import AssetStore
from controller.services.views import DeliveryView
from controller.tts import render_text
from tests.integration.conftest import Api, Deployment, deployed, e2e_settings, wait_for, write_window

AGENT = "tule-c01"
TEXTS = (
    "Bản Lìm họp dân tối thứ sáu lúc 19 giờ.",
    "Trạm y tế tiêm phòng sáng thứ bảy.",
    "UBND xã Tú Lệ thông báo lịch tiêm phòng vắc xin cho trẻ em dưới năm tuổi tại trạm y tế xã vào sáng thứ "
    "bảy tuần này, đề nghị các gia đình đưa con em đến đúng giờ và mang theo sổ tiêm chủng.",
)
NORMAL = "Mất điện từ 8 giờ đến 11 giờ sáng mai."
EMERGENCY = "Khẩn cấp: lũ quét, bà con lên vùng cao ngay."


def speech_seconds(text: str) -> float:
    """How long the controller's speech for `text` lasts (espeak-ng, as in the integration settings)."""
    with tempfile.TemporaryDirectory() as scratch:
        settings = e2e_settings(Path(scratch), write_window(Path(scratch), 3600, 60))
        return render_text(text, settings.tts, AssetStore(Path(scratch) / "assets")).duration_ms / 1000


def publish(
    api: Api,
    text: str,
    *,
    priority: str = "normal",
    schedule: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> int:
    """Write, submit and approve a bulletin for the test cluster (or `targets`) over REST; returns its id."""
    body: dict[str, Any] = {
        "title": text[:40],
        "text": text,
        "priority": priority,
        "targets": {"clusters": targets or [AGENT]},
    }
    if schedule is not None:
        body["schedule"] = schedule
    status, created = api.call("POST", "/bulletins", body, user="operator")
    assert status == 201, created
    assert api.call("POST", f"/bulletins/{created['id']}/submit", user="operator")[0] == 200
    status, approved = api.call("POST", f"/bulletins/{created['id']}/approve", user="approver")
    assert (status, approved["status"]) == (200, "approved"), approved
    return int(created["id"])


def plays(api: Api, bulletin_id: int) -> list[dict[str, Any]]:
    """The as-run log of one bulletin."""
    status, body = api.call("GET", f"/plays?bulletin={bulletin_id}", user="operator")
    assert status == 200, body
    return list(body["items"])


def delivery(deployment: Deployment, bulletin_id: int, device_id: str = AGENT) -> DeliveryView | None:
    """The delivery of one bulletin on one device, straight from the services."""
    with deployment.controller.db.session() as session:
        found = services.get_bulletin(session, bulletin_id).deliveries
    return next((d for d in found if d.device_id == device_id), None)


def sink_log(home: Path) -> list[dict[str, Any]]:
    """What the agent's file sink "played"."""
    log = home / "played" / "plays.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def until_window_end(deployment: Deployment, extra_s: float = 10) -> float:
    return (deployment.window.end - datetime.now(UTC)).total_seconds() + extra_s


def test_overflow_is_deferred_and_shown_and_a_cancel_stops_the_playing_item(tmp_path: Path) -> None:
    first, second, third = (speech_seconds(t) for t in TEXTS)
    # Room for the two short ones even if the first starts up to 10 s late (a slow machine), never for the
    # long third one after them, nor between them once the first is cancelled.
    slack = 10
    assert third > slack + 2 and third > first, (first, second, third)
    length = int(first + second + 2 + slack)
    with deployed(tmp_path, opens_in_s=20, length_s=length) as deployment:
        api, window = deployment.api, deployment.window
        home = deployment.start_agent(AGENT)
        ids = [publish(api, text) for text in TEXTS]  # placed in the order of approval
        wait_for("all three planned", lambda: all(delivery(deployment, i) for i in ids), timeout=30)

        def overflowing() -> Any:
            view = deployment.controller.village_timeline("ban-lim", window.start, window.end)
            return view if view.windows and view.windows[0].deferred else None

        shown = wait_for("the overflow in the village timeline", overflowing, timeout=30).windows[0]
        assert [(p.bulletin_id, p.device_id) for p in shown.placed] == [(ids[0], AGENT), (ids[1], AGENT)]
        assert [(d.bulletin_id, d.reason) for d in shown.deferred] == [(ids[2], "window_full")]
        rolled = delivery(deployment, ids[2])  # rolled on to the same window tomorrow
        assert rolled is not None and rolled.planned_start is not None
        assert rolled.planned_start.replace(tzinfo=UTC) >= window.start + timedelta(days=1)

        # Cancel the first while it plays: the new plan leaves it out and the agent stops it.
        wait_for("the first playing", lambda: plays(api, ids[0]), timeout=until_window_end(deployment))
        assert api.call("POST", f"/bulletins/{ids[0]}/cancel", user="operator")[1]["status"] == "cancelled"
        ended = wait_for(
            "the first interrupted",
            lambda: [p for p in plays(api, ids[0]) if p["status"] == "interrupted"],
            timeout=10,
        )
        assert len(ended) == 1
        finished = wait_for(
            "the second finished",
            lambda: [p for p in plays(api, ids[1]) if p["status"] == "finished"],
            timeout=until_window_end(deployment),
        )
        assert window.start <= datetime.fromisoformat(finished[0]["finished_at"]) <= window.end
        assert [(line["item_id"].split("-")[0], line["completed"]) for line in sink_log(home)] == [
            (f"b{ids[0]}", False),
            (f"b{ids[1]}", True),
        ]
        assert plays(api, ids[2]) == []


def test_an_emergency_interrupts_the_window_repeats_and_the_programme_resumes(tmp_path: Path) -> None:
    programme_s, emergency_s = speech_seconds(TEXTS[2]), speech_seconds(EMERGENCY)
    length = int(2 * programme_s + 2 * emergency_s + 15)
    with deployed(tmp_path, opens_in_s=12, length_s=length) as deployment:
        api = deployment.api
        home = deployment.start_agent(AGENT)
        programme = publish(api, TEXTS[2])
        wait_for(
            "the window item playing", lambda: plays(api, programme), timeout=until_window_end(deployment)
        )
        alarm = publish(
            api, EMERGENCY, priority="emergency", schedule={"emergency_repeat": 2, "emergency_gap_s": 1}
        )

        def alarm_done() -> list[dict[str, Any]] | None:
            done = [p for p in plays(api, alarm) if p["status"] == "finished"]
            return done if len(done) == 2 else None

        repeats = wait_for("two plays of the emergency", alarm_done, timeout=3 * emergency_s + 20)
        interrupted = [p for p in plays(api, programme) if p["status"] == "interrupted"]
        assert len(interrupted) == 1
        assert interrupted[0]["finished_at"] <= min(p["started_at"] for p in repeats)
        resumed = wait_for(
            "the window item started again",
            lambda: [p for p in plays(api, programme) if p["status"] != "interrupted"],
            timeout=until_window_end(deployment),
        )
        assert resumed[0]["started_at"] >= max(p["finished_at"] for p in repeats)
        assert [line["completed"] for line in sink_log(home)][:3] == [False, True, True]
        assert delivery(deployment, alarm) is not None
