"""Clock sanity: an untrusted wall clock holds every scheduled item (reported once as skipped with reason
clock_unsynced), play_now emergencies still play, and heartbeats say clock_synced false."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_agent.agent import Agent
from edge_agent.clock import SystemClock
from edge_agent.clocksync import BUILD_FLOOR, ClockCheck, kernel_synced
from edge_agent.schedule import Emergency, decide
from edge_agent.state import State
from protocol import Command
from tests.edge_agent.support import (
    Audio,
    Controller,
    Keys,
    asset_server,
    item,
    plan,
    plays,
    running_agent,
    wait_until,
    window,
    write_config,
)
from tests.edge_agent.test_schedule import A, body, mk, utc
from tests.support.services import BrokerFixture

GOOD = BUILD_FLOOR + timedelta(days=30)


class Store:
    def __init__(self, last_good: datetime | None = None) -> None:
        self.value = last_good
        self.boot: str | None = None

    def last_good_time(self) -> datetime | None:
        return self.value

    def set_last_good_time(self, now: datetime) -> None:
        self.value = now

    def synced_boot(self) -> str | None:
        return self.boot

    def set_synced_boot(self, boot: str) -> None:
        self.boot = boot


def test_the_rule_floors_and_kernel() -> None:
    assert not ClockCheck("system", Store()).synced(BUILD_FLOOR - timedelta(days=1), 0.0), "before the build"
    behind = ClockCheck("system", Store(GOOD))
    assert not behind.synced(GOOD - timedelta(minutes=6), 0.0), "went back past the last known good time"
    assert behind.synced(GOOD - timedelta(minutes=4), 0.0), "NTP may step back a little"
    assert not ClockCheck("ntp", Store(), probe=lambda: False).synced(GOOD, 0.0), "the kernel says unsynced"
    assert ClockCheck("ntp", Store(), probe=lambda: True).synced(GOOD, 0.0)
    assert ClockCheck("ntp", Store(), probe=lambda: None).synced(GOOD, 0.0), "no kernel answer: floors only"
    assert ClockCheck("system", Store(), probe=lambda: False).synced(GOOD, 0.0), "system ignores the kernel"
    assert kernel_synced() in (True, False, None)


def test_one_ntp_sync_per_boot_is_enough_for_days_offline() -> None:
    store, kernel = Store(), [False]
    check = ClockCheck("ntp", store, probe=lambda: kernel[0], boot=lambda: "boot-1")
    assert not check.synced(GOOD, 0.0), "not yet synchronised since boot"
    kernel[0] = True
    assert check.synced(GOOD, 1.0) and store.boot == "boot-1"
    kernel[0] = False  # ~9 h without an NTP answer: the kernel sets STA_UNSYNC again
    assert check.synced(GOOD + timedelta(days=3), 2.0), "the running clock is still right"
    restarted = ClockCheck("ntp", store, probe=lambda: False, boot=lambda: "boot-1")
    assert restarted.synced(GOOD + timedelta(days=3), 0.0), "an agent restart in the same boot keeps it"
    rebooted = ClockCheck("ntp", store, probe=lambda: False, boot=lambda: "boot-2")
    assert not rebooted.synced(GOOD + timedelta(days=3), 0.0), "a reboot without network does not"


def test_a_trusted_time_is_saved_and_becomes_the_next_floor(tmp_path: Path) -> None:
    state = State(tmp_path / "agent.sqlite3")
    check = ClockCheck("system", state)
    assert check.synced(GOOD, 0.0)
    assert state.last_good_time() == GOOD
    assert check.synced(GOOD + timedelta(minutes=1), 10.0)
    assert state.last_good_time() == GOOD, "saved every 10 minutes, not on every pass"
    assert not ClockCheck("system", state).synced(GOOD - timedelta(hours=1), 0.0), "after a reboot"
    state.close()


def test_untrusted_clock_holds_plan_items_but_not_emergencies() -> None:
    due, expired = mk("due", utc(10, 30)), mk("old", utc(1), not_after=utc(2))
    held = decide(body(due, expired), [], utc(10, 31), {}, ready={A.sha256}, clock_ok=False)
    assert (held.play, held.skips, held.held) == (None, (), (due,)), (
        "nothing plays or closes by a wrong clock"
    )
    alert = Emergency(mk("e", utc(10, 31), priority="emergency"), 1, 0.0)
    loud = decide(body(due), [alert], utc(10, 31), {}, ready={A.sha256}, clock_ok=False)
    assert loud.play == alert.item and loud.emergency


class PastClock(SystemClock):
    """The Pi after a power cut without network: fake-hwclock left the clock long before the build."""

    offset = timedelta(days=400)

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


def test_agent_with_a_wrong_clock_holds_the_programme_and_plays_the_emergency(
    tmp_path: Path, device_broker: BrokerFixture, controller: Controller, keys: Keys, short_mp3: Audio
) -> None:
    clock = PastClock()
    with asset_server() as server:
        asset = server.add(short_mp3)
        config = write_config(tmp_path, device_broker, [keys.public_b64])
        now = clock.now()
        body = plan(
            1,
            [window("now", now - timedelta(minutes=1), now + timedelta(minutes=5))],
            [item("n-1", asset, now)],
        )
        controller.publish("plan", keys.plan(1, body), retain=True)
        with running_agent(Agent(config, clock=clock)):
            skipped = controller.wait_event("skipped", "n-1")
            alert = item("e-1", asset, clock.now(), priority="emergency")
            controller.publish("cmd", keys.cmd(1, Command("play_now", item=alert, repeat=1).to_json()))
            controller.wait_event("finished", "e-1", timeout=20)
            beats = wait_until(lambda: controller.received("heartbeat"), what="a heartbeat")
    assert skipped[0]["reason"] == "clock_unsynced" and "held" in skipped[0]["detail"]
    assert len(controller.events("skipped", "n-1")) == 1, "reported once per unsynchronised spell"
    assert beats and all(b["clock_synced"] is False for b in beats)
    assert [p["item_id"] for p in plays(tmp_path / "played")] == ["e-1"], "the held item never started"
