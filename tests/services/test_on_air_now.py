"""What is on air now (issue 13, item 6): online clusters' last `playing`, live sessions on air, and the
titles of what plays (a relay slot with its station), on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy.orm import Session

from controller.db.models import LiveSession
from controller.services import create_bulletin, mark_silent_devices_offline, record_heartbeat
from controller.services.on_air_now import devices_playing, live_on_air, what_plays
from controller.services.relay_slots import create_relay_slot
from controller.services.stations import create_station
from protocol import Heartbeat
from tests.services.conftest import T0, World


def _beat(playing: str | None) -> Heartbeat:
    return Heartbeat(
        seq=1, boot_id="b1", uptime_s=60, sent_at=T0, clock_synced=True, plan_version=1,
        assets_missing=0, amp_on=True, agent_version="1.0", playing=playing,
    )  # fmt: skip


def test_online_clusters_that_play_and_live_sessions_on_air(session: Session, world: World) -> None:
    record_heartbeat(session, "tl-c01", _beat("b7-2026-11-22-morning-vi"), T0)
    record_heartbeat(session, "tl-c02", _beat(None), T0)
    record_heartbeat(session, "tl-c03", _beat("b8-2026-11-22-morning-vi"), T0 - timedelta(hours=1))
    assert mark_silent_devices_offline(session, T0) == ["tl-c03"]  # its last `playing` no longer counts
    [playing] = devices_playing(session, "tl")
    assert (playing.device_id, playing.village_id, playing.item) == (
        "tl-c01",
        "lim",
        "b7-2026-11-22-morning-vi",
    )
    assert devices_playing(session, "other") == []
    for n, state in enumerate(("on_air", "ended", "waiting")):
        session.add(
            LiveSession(
                id=f"s{n}", commune_id="tl", user_id=world.approver.id, title=f"Phiên {n}", targets={},
                devices=["tl-c02"], state=state, created_at=T0, started_at=T0,
            )
        )  # fmt: skip
    session.flush()
    assert [(s.id, s.devices) for s in live_on_air(session, "tl")] == [("s0", ("tl-c02",))]


def test_titles_of_what_plays_name_the_relayed_station(session: Session, world: World) -> None:
    station = create_station(session, world.admin, T0, name="VOV1", urls=["http://vov.example/vov1"])
    text = create_bulletin(session, world.operator, T0, title="Tiêm phòng", text="x", targets={"all": True})
    relay = create_relay_slot(
        session, world.operator, T0, title="Thời sự", targets={"all": True},
        source={"kind": "relay", "station": station.id, "duration_s": 600},
        schedule={"mode": "daily", "days": 3, "start_time": "06:00"},
    )  # fmt: skip
    assert what_plays(session, {text.id, relay.id, 999}) == {
        text.id: ("Tiêm phòng", None),
        relay.id: ("Thời sự", "VOV1"),
    }
    assert what_plays(session, set()) == {}
