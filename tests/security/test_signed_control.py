"""Controller-side signed control: what the dispatcher publishes is what an agent's gate accepts, once.

The dispatcher signs with the controller's key ring; the agent's real Intake (signature, device, seq)
judges the bytes. The publisher is the dispatcher's MQTT port, recording what would go to the broker.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.assets import AssetStore
from controller.config import DEFAULT_SCHEDULE, TtsSettings
from controller.dispatch import Dispatcher
from controller.keys import load_or_create_keys
from controller.planning import load_schedule
from edge_agent.intake import Intake
from edge_agent.state import State
from protocol import Command, Signer, Verifier, topics
from protocol.signing import load_public_key_b64
from tests.support.fakes import RecordingPublisher as Recorder
from tests.web.conftest import Runtime

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def _dispatcher(runtime: Runtime, tmp_path: Path, clock: list[datetime]) -> tuple[Dispatcher, Recorder, str]:
    keys = load_or_create_keys(tmp_path / "keys")
    recorder = Recorder()
    dispatcher = Dispatcher(
        db=runtime.db,
        publisher=recorder,
        signer=Signer(keys.signing_key),
        schedule=load_schedule(DEFAULT_SCHEDULE),
        store=AssetStore(tmp_path / "assets"),
        asset_base_url="http://controller:8080",
        url_secret=keys.url_secret,
        url_ttl=timedelta(days=7),
        tts=TtsSettings(),
        clock=lambda: clock[0],
    )
    return dispatcher, recorder, keys.public_key_b64


def _intake(tmp_path: Path, device: str, public_key: str) -> Intake:
    state = State(tmp_path / f"{device}.sqlite3")
    return Intake(Verifier([load_public_key_b64(public_key)], device), state)


def test_commands_reach_only_their_device_and_only_once(runtime: Runtime, tmp_path: Path) -> None:
    clock = [NOW]
    dispatcher, recorder, public_key = _dispatcher(runtime, tmp_path, clock)
    assert dispatcher.send_command("tule-c01", Command(command="stop"))
    [(topic, payload, retain)] = recorder.sent
    assert topic == topics.device_topic("tule-c01", "cmd")
    assert not retain, "a retained command would replay to every reconnect"
    mine, neighbour = _intake(tmp_path, "tule-c01", public_key), _intake(tmp_path, "tule-c02", public_key)
    assert mine.command(payload) is not None
    assert mine.command(payload) is None, "the same command twice is a replay"
    assert neighbour.command(payload) is None
    forged = Signer(load_or_create_keys(tmp_path / "other").signing_key).seal(
        kind="cmd", device="tule-c01", seq=10**15, body={"command": "stop"}, issued_at=NOW
    )
    assert mine.command(forged) is None
    assert mine.rejections() == {"cmd.replayed": 1, "cmd.bad_signature": 1}
    assert neighbour.rejections() == {"cmd.foreign_device": 1}


def test_two_commands_in_the_same_millisecond_are_both_accepted(runtime: Runtime, tmp_path: Path) -> None:
    clock = [NOW]
    dispatcher, recorder, public_key = _dispatcher(runtime, tmp_path, clock)
    dispatcher.send_command("tule-c01", Command(command="stop"))
    dispatcher.send_command("tule-c01", Command(command="resync"))
    clock[0] = NOW - timedelta(seconds=5)  # the controller's clock stepped back
    dispatcher.send_command("tule-c01", Command(command="resync"))
    agent = _intake(tmp_path, "tule-c01", public_key)
    assert [agent.command(payload) is not None for _, payload, _ in recorder.sent] == [True, True, True]
