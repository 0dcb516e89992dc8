"""Programme sources (DESIGN §4): an agent skips, once each, the items whose source it does not know and
still plays the rest of the plan: file items, and relay slots (whose airing is tested in
test_agent_streams.py)."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from edge_agent.clock import SystemClock
from edge_agent.player import FileSinkPlayer
from protocol import PlanBody, ProtocolError, SourcedItem, StreamSource, UnknownSource
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
    now_utc,
    plan,
    plays,
    running_agent,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture


def _sourced(
    item_id: str, source: StreamSource | UnknownSource, start: datetime, duration_ms: int | None = None
) -> SourcedItem:
    return SourcedItem(
        item_id=item_id, bulletin_id=7, priority="normal", source=source, duration_ms=duration_ms,
        not_before=start, not_after=start + timedelta(minutes=5), planned_start=start,
    )  # fmt: skip


def test_a_plan_with_every_kind_of_source_reads_back_as_written() -> None:
    start = now_utc().replace(microsecond=0)
    relay = StreamSource("relay", ("https://radio.example/vov1.mp3", "http://127.0.0.1:8000/vov1"), "vov1")
    body = PlanBody(
        version=3, generated_at=start, timezone="Asia/Ho_Chi_Minh", windows=(), items=(),
        sourced=(_sourced("b7.0", relay, start), _sourced("b8.0", UnknownSource("sip"), start)),
    )  # fmt: skip
    again = PlanBody.from_json(body.to_json())
    assert again.sourced == body.sourced and again.items == ()
    as_file = {**body.to_json()["items"][0], "source": {"kind": "file"}}
    with pytest.raises(ProtocolError, match="asset"):  # a file item needs its audio
        PlanBody.from_json({**body.to_json(), "items": [as_file]})


@pytest.mark.parametrize(
    "urls", [[], ["file:///etc/passwd"], ["rtsp://cam/1"], [42], [f"http://x/{i}" for i in range(9)]]
)
def test_a_stream_source_without_usable_urls_is_refused(urls: list[object]) -> None:
    start = now_utc().replace(microsecond=0)
    good = _sourced("b7.0", StreamSource("relay", ("http://x/a",)), start).to_json()
    data = {
        "version": 1, "generated_at": "2026-12-06T00:00:00Z", "timezone": "Asia/Ho_Chi_Minh", "windows": [],
        "items": [{**good, "source": {"kind": "relay", "urls": urls}}],
    }  # fmt: skip
    with pytest.raises(ProtocolError, match=r"source\.urls"):
        PlanBody.from_json(data)


def test_agent_skips_what_it_cannot_play_once_and_plays_the_rest(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64], "")
        opens = now_utc().replace(microsecond=0) + timedelta(seconds=2)
        windows = [window("soon", opens, opens + timedelta(seconds=30))]
        # A relay slot of 1 s whose only URL refuses: it airs first (relay ranks with priority), fails, and
        # the file item follows.
        dead = StreamSource("relay", ("http://127.0.0.1:9/vov1",), station="vov1")
        relay = _sourced("b7.0", dead, opens, duration_ms=1000)
        unknown = _sourced("b8.0", UnknownSource("sip"), opens)
        body = plan(1, windows, [item("b6.0", asset, opens)])
        body = PlanBody(**{**body.__dict__, "sourced": (relay, unknown)})
        controller.publish("plan", keys.plan(10, body), retain=True)
        player = FileSinkPlayer(tmp_path / "played", SystemClock())
        with running_agent(Agent(config, player=player)):
            controller.wait_event("finished", "b6.0", timeout=30)
            [skipped] = controller.events("skipped")
            assert (skipped["item_id"], skipped["reason"]) == ("b8.0", "unsupported_source")
            assert "'sip'" in skipped["detail"]
            [failed] = controller.events("failed", "b7.0")
            assert failed["reason"] == "no_stream" and "refused" in failed["detail"]
            # The same plan again (a broker redelivers retained plans): nothing is reported twice.
            controller.publish(
                "plan", keys.plan(11, PlanBody(**{**body.__dict__, "version": 2})), retain=True
            )
            wait_until(lambda: len(controller.events("received")) >= 2, what="the second plan")
            assert [e["item_id"] for e in controller.events("skipped")] == ["b8.0"]
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["b7.0", "b6.0"]
