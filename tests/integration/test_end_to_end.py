"""From an approved bulletin to loudspeakers, on real parts (issue 2 item 7).

A window opens seconds from now; a bulletin goes draft → pending → approved over REST; three agent
processes receive the signed plan, fetch the audio, play it inside the window and never outside it; the
controller records each play. Then one agent is killed (its will marks it offline) and another falls
silent (the heartbeat timeout marks it offline), and uptime shows the gap.
"""

import hashlib
import json
import os
import signal
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from controller import services
from protocol import PlanBody, Verifier, topics
from protocol.signing import load_public_key_b64
from protocol.timefmt import parse_utc
from tests.integration.conftest import Deployment, wait_for

CLUSTERS = ["tule-c01", "tule-c02", "tule-c03"]


def _retained_plans(deployment: Deployment) -> dict[str, bytes]:
    """Read the retained plans as the controller's account sees them on the broker."""
    settings = deployment.controller.settings
    host, port = settings.mqtt.url.removeprefix("mqtt://").split(":")
    plans: dict[str, bytes] = {}
    got_all = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="e2e-spy")
    client.username_pw_set(settings.mqtt.username, deployment.controller.keys.broker_password)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        parsed = topics.parse_device_topic(message.topic)
        if parsed is not None and message.retain:
            plans[parsed[0]] = bytes(message.payload)
        if set(CLUSTERS) <= set(plans):
            got_all.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topics.fleet_filter("plan"), qos=1)
    client.connect(host, int(port))
    client.loop_start()
    got_all.wait(10)
    client.disconnect()
    client.loop_stop()
    return plans


def test_approved_bulletin_plays_inside_the_window_on_every_target(deployment: Deployment) -> None:
    api, window = deployment.api, deployment.window
    homes = {device: deployment.start_agent(device) for device in CLUSTERS}
    wait_for("agents online", lambda: all(deployment.device(d)["online"] for d in CLUSTERS), timeout=30)

    status, created = api.call(
        "POST",
        "/bulletins",
        {
            "title": "Phòng chống rét đậm",
            "text": "UBND xã Tú Lệ thông báo: rét đậm từ ngày 25/11, bà con giữ ấm cho trẻ nhỏ và gia súc.",
            "priority": "normal",
            "targets": {"clusters": CLUSTERS},
        },
        user="operator",
    )
    assert (status, created["status"]) == (201, "draft"), created
    bulletin_id = created["id"]
    assert api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")[0] == 409  # not submitted
    assert api.call("POST", f"/bulletins/{bulletin_id}/submit", user="operator")[1]["status"] == "pending"
    assert api.call("POST", f"/bulletins/{bulletin_id}/approve", user="approver")[1]["status"] == "approved"

    def plays() -> list[dict[str, object]] | None:
        _, body = api.call("GET", f"/plays?bulletin={bulletin_id}", user="operator")
        finished = [p for p in body["items"] if p["status"] == "finished"]
        return finished if len(finished) == len(CLUSTERS) else None

    wait_until = (window.end - datetime.now(UTC)).total_seconds() + 10
    played = wait_for("a finished play on every target", plays, timeout=wait_until)
    assert sorted(str(p["device"]) for p in played) == CLUSTERS
    for play in played:
        started, finished = parse_utc(str(play["started_at"])), parse_utc(str(play["finished_at"]))
        assert window.start <= started < finished <= window.end, play

    # What the speakers really got: the sink's log on each agent, inside the window, the right audio.
    status, bulletin = api.call("GET", f"/bulletins/{bulletin_id}", user="operator")
    sha256 = (
        bulletin["audio"][0]["sha256"] if isinstance(bulletin["audio"], list) else bulletin["audio"]["sha256"]
    )
    for device, home in homes.items():
        lines = [json.loads(line) for line in (home / "played" / "plays.jsonl").read_text().splitlines()]
        assert len(lines) == 1 and lines[0]["completed"], (device, lines)
        copy = (home / "played" / lines[0]["file"]).read_bytes()
        assert hashlib.sha256(copy).hexdigest() == sha256, device
        assert window.start <= parse_utc(lines[0]["started_at"]) <= window.end
    assert {d["device"]: d["state"] for d in bulletin["deliveries"]} == dict.fromkeys(CLUSTERS, "played")

    # Retained plans verify with the controller's public key; a foreign key would not.
    public = load_public_key_b64(deployment.controller.keys.public_key_b64)
    for device, payload in _retained_plans(deployment).items():
        envelope = Verifier([public], device).open(payload)
        body = PlanBody.from_json(envelope.body)
        assert envelope.seq == body.version


def test_killed_and_silent_agents_go_offline_and_uptime_shows_the_gap(deployment: Deployment) -> None:
    for device in ("tule-c04", "tule-c05"):
        deployment.start_agent(device)
    wait_for(
        "agents online", lambda: all(deployment.device(d)["online"] for d in ("tule-c04", "tule-c05")), 30
    )
    began = datetime.now(UTC)

    # kill -9: the TCP connection drops, the broker publishes the will, the controller marks it offline.
    deployment.agents["tule-c04"].kill()
    wait_for("the killed agent offline", lambda: not deployment.device("tule-c04")["online"], timeout=10)

    # SIGSTOP: the link stays open but goes silent; heartbeat coverage (2.5 × 1 s) runs out.
    silent = deployment.agents["tule-c05"]
    os.kill(silent.pid, signal.SIGSTOP)
    stopped_at = datetime.now(UTC)
    wait_for("the silent agent offline", lambda: not deployment.device("tule-c05")["online"], timeout=15)
    os.kill(silent.pid, signal.SIGCONT)
    wait_for("the silent agent back online", lambda: deployment.device("tule-c05")["online"], timeout=15)
    ended = datetime.now(UTC)

    with deployment.controller.db.session() as session:
        report = services.device_uptime(session, "tule-c05", began, ended)
    assert 0 < report.fraction < 1
    assert any(gap.start >= stopped_at - timedelta(seconds=1) for gap in report.gaps), report
