"""Area topics with a real controller, broker and agents (DESIGN §5): emergencies and announcements.

Two real agent processes in the same village (ban-lim: tule-c01 and tule-c02). An emergency for one
cluster goes out as one signed message on the village's area topic and none on the devices' own topics;
only the target plays it, and the deliveries are exactly the targets'. A window bulletin for the village
is announced there once (`fetch`) ahead of the two plans; each delivery is `delivered` once its agent
reported `asset_ready`.
"""

import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from controller import services
from controller.db.models import DeviceEvent
from protocol import topics
from tests.integration.conftest import Deployment, deployed, wait_for

TARGET, NEIGHBOUR = "tule-c01", "tule-c02"  # both in ban-lim
VILLAGE = "ban-lim"


class Spy:
    """Every downlink command message the broker carries, with the controller's account."""

    def __init__(self, deployment: Deployment) -> None:
        settings = deployment.controller.settings
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-area-spy")
        self._client.username_pw_set(settings.mqtt.username, deployment.controller.keys.broker_password)
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_args: subscribed.set()
        self._client.on_message = lambda _c, _u, m: self.seen.append((m.topic, json.loads(m.payload)))
        host, port = settings.mqtt.url.removeprefix("mqtt://").split(":")
        self._client.connect(host, int(port))
        self._client.loop_start()
        self._client.subscribe([(topics.AREA_FILTER, 1), (topics.fleet_filter("cmd"), 1)])
        assert subscribed.wait(10)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _listening(deployment: Deployment, device_id: str) -> bool:
    """Whether the device's heartbeat reported the plan version the controller stored for it."""
    with deployment.controller.db.session() as session:
        reach = services.device_reach(session).get(device_id)
        stored = services.current_plan(session, device_id)
    return reach is not None and stored is not None and reach.plan_version == stored.version


def _listening_agents(deployment: Deployment) -> dict[str, Path]:
    homes = {device: deployment.start_agent(device) for device in (TARGET, NEIGHBOUR)}
    wait_for("both agents to hold their plans", lambda: all(_listening(deployment, d) for d in homes), 60)
    return homes


def test_an_emergency_goes_once_on_the_village_topic_and_plays_only_on_its_target(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=900, length_s=60) as deployment:
        homes = _listening_agents(deployment)
        spy = Spy(deployment)
        try:
            status, created = deployment.api.call(
                "POST", "/bulletins",
                {
                    "title": "Lũ quét", "text": "Khẩn cấp: lũ quét, bà con tránh xa suối.",
                    "priority": "emergency", "targets": {"clusters": [TARGET]},
                    "schedule": {"emergency_repeat": 1, "emergency_gap_s": 0},
                },
                user="operator",
            )  # fmt: skip
            assert status == 201, created
            bulletin_id = created["id"]
            deployment.api.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")
            deployment.api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")

            def deliveries() -> dict[str, str]:
                _, body = deployment.api.call("GET", f"/bulletins/{bulletin_id}", user="admin")
                return {d["device"]: d["state"] for d in body["deliveries"]}

            wait_for("the target to play it", lambda: deliveries() == {TARGET: "played"} or None, timeout=90)
            # Seen once more after the play: no delivery for the neighbour, who heard the message too.
            final = deliveries()
        finally:
            spy.close()
        with deployment.controller.db.session() as session:
            events = session.scalars(
                select(DeviceEvent.type)
                .where(DeviceEvent.bulletin_id == bulletin_id)
                .order_by(DeviceEvent.seq)
            ).all()
    assert [(topic, body["targets"]) for topic, body in spy.seen] == [(topics.area_topic(VILLAGE), [TARGET])]
    assert spy.seen[0][1]["area"] == VILLAGE and "device" not in spy.seen[0][1]
    assert final == {TARGET: "played"}
    assert events[:1] == ["received"] and "started" in events and "finished" in events
    assert not (homes[NEIGHBOUR] / "played" / "plays.jsonl").exists()
    plays = (homes[TARGET] / "played" / "plays.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["item_id"] for line in plays] == [f"b{bulletin_id}-emergency-vi"]


def test_a_window_bulletin_is_announced_once_on_the_village_topic_then_planned(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=900, length_s=60) as deployment:
        _listening_agents(deployment)
        spy = Spy(deployment)
        try:
            status, created = deployment.api.call(
                "POST", "/bulletins",
                {
                    "title": "Họp thôn", "text": "Mời bà con dự họp thôn tối nay.",
                    "targets": {"villages": [VILLAGE]},
                },
                user="operator",
            )  # fmt: skip
            assert status == 201, created
            bulletin_id = created["id"]
            deployment.api.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")
            deployment.api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")

            def deliveries() -> dict[str, str]:
                _, body = deployment.api.call("GET", f"/bulletins/{bulletin_id}", user="admin")
                return {d["device"]: d["state"] for d in body["deliveries"]}

            both = {TARGET: "delivered", NEIGHBOUR: "delivered"}
            wait_for("both agents to hold the audio", lambda: deliveries() == both or None, timeout=90)
            _, bulletin = deployment.api.call("GET", f"/bulletins/{bulletin_id}", user="admin")
        finally:
            spy.close()
    announcements = [(topic, body) for topic, body in spy.seen if body["body"].get("command") == "fetch"]
    assert [(topic, body["targets"]) for topic, body in announcements] == [
        (topics.area_topic(VILLAGE), sorted([TARGET, NEIGHBOUR]))
    ]
    assert announcements[0][1]["body"]["asset"]["sha256"] == bulletin["audio"]["sha256"]
    assert [topic for topic, _ in spy.seen] == [topics.area_topic(VILLAGE)]  # no command on devices' topics
