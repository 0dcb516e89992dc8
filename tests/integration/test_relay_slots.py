"""A relay slot from REST to a real agent over the real broker (issue 13, items 2–3).

A station is added, a relay slot inside the test window is written, submitted and approved; the real
controller renders its spoken filler, plans it and publishes the signed plan. The agent on the managed
mosquitto receives the item with its source (the station's URL, then the managed Icecast's relay of it with
a listener token) and its filler. Neither URL gives sound here (nothing listens at the station's address),
so the agent airs the filler for the slot and reports the outcome; the as-run log shows the relay and its
gaps.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from controller.streaming import check_listener
from protocol import PlanBody, SourcedItem, Verifier, topics
from protocol.signing import load_public_key_b64
from tests.integration.conftest import ZONE, Deployment, deployed, wait_for

STATION_URL = "http://127.0.0.1:9/vov1"  # the discard port: nothing answers, which is fine here


@contextmanager
def plans_of(deployment: Deployment, device: str) -> Iterator[list[PlanBody]]:
    """Every plan published to `device` while the block runs, verified as the agent verifies it."""
    settings, keys = deployment.controller.settings, deployment.controller.keys
    verifier = Verifier([load_public_key_b64(keys.public_key_b64)], device)
    seen: list[PlanBody] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="relay-spy")
    client.username_pw_set(settings.mqtt.username, keys.broker_password)
    client.on_message = lambda _c, _u, m: seen.append(
        PlanBody.from_json(verifier.open(bytes(m.payload)).body)
    )
    client.on_connect = lambda c, *_: c.subscribe(topics.device_topic(device, "plan"), qos=1)
    host, port = settings.mqtt.url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.loop_start()
    try:
        yield seen
    finally:
        client.disconnect()
        client.loop_stop()


def test_an_approved_relay_slot_reaches_a_real_agents_plan(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=15, length_s=60) as deployment:
        api, window = deployment.api, deployment.window
        deployment.start_agent("tule-c01")
        wait_for("agent online", lambda: deployment.device("tule-c01")["online"], timeout=30)
        status, station = api.call("POST", "/stations", {"name": "VOV1", "urls": [STATION_URL]}, user="admin")
        assert status == 201, station
        start = (window.start + timedelta(seconds=8)).astimezone(ZONE)
        status, created = api.call(
            "POST",
            "/bulletins",
            {
                "title": "Tiếp sóng VOV1",
                "source": {"kind": "relay", "station": station["id"], "duration_s": 10},
                "targets": {"clusters": ["tule-c01"]},
                "schedule": {"mode": "next_window", "start_time": start.strftime("%H:%M:%S")},
            },
            user="operator",
        )
        assert status == 201, created
        slot = created["id"]
        assert api.call("POST", f"/bulletins/{slot}/submit", user="operator")[0] == 200
        with plans_of(deployment, "tule-c01") as plans:
            assert api.call("POST", f"/bulletins/{slot}/approve", user="approver")[1]["status"] == "approved"
            wait_for("a plan with the relay item", lambda: [p for p in plans if p.sourced], timeout=60)

        def delivery() -> dict[str, object] | None:
            _, body = api.call("GET", f"/bulletins/{slot}", user="operator")
            states = [d for d in body["deliveries"] if d["state"] in ("played", "failed", "skipped")]
            return states[0] if states else None

        outcome = wait_for("the agent to report the relay slot's outcome", delivery, timeout=120)
        assert outcome["state"] != "skipped", outcome  # this agent airs relays: no unsupported_source
        assert outcome["planned_start"] is not None
        _, plays = api.call("GET", f"/plays?bulletin={slot}", user="operator")
        assert [p["source"] for p in plays["items"]] == [{"kind": "relay", "station": str(station["id"])}]

        body = next(p for p in plans if p.sourced)
        (item,) = body.sourced
        assert isinstance(item, SourcedItem) and item.bulletin_id == slot
        assert item.planned_start == start.astimezone(window.start.tzinfo)
        assert item.not_after == item.planned_start + timedelta(seconds=10)
        source = item.source.to_json()
        assert (source["kind"], source["station"], source["duration_s"]) == ("relay", str(station["id"]), 10)
        station_url, relay_url = source["urls"]
        assert station_url == STATION_URL
        streaming = deployment.controller.streaming
        assert relay_url.startswith(f"{streaming.base_url}/relay-{station['id']}?expires=")
        parts = urlsplit(relay_url)
        listener = check_listener(
            f"{parts.path}?{parts.query}", deployment.controller.keys.url_secret, window.start
        )
        assert listener.mount == f"/relay-{station['id']}"
        made = body.generated_at
        ttl = timedelta(seconds=deployment.controller.settings.stream.listener_token_ttl_s)
        day_end = datetime(made.year, made.month, made.day, tzinfo=UTC) + timedelta(days=1)
        assert listener.expires == int((day_end + ttl).timestamp())  # fixed for the day: stable plans
        _, bulletin = api.call("GET", f"/bulletins/{slot}", user="operator")
        assert item.asset is not None and item.asset.sha256 == bulletin["audio"]["sha256"]  # the filler
        _, health = api.call("GET", "/health")
        assert health["streaming"]["state"] == "running"
