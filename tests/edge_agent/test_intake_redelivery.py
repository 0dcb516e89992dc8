"""The same message delivered again after a reconnect (retained plan, QoS 1 area message) costs no signature
check, and anything else is still checked: a different message with the same seq, a forged one."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.intake import Intake
from edge_agent.state import State
from protocol import Asset, Command, Signer, Verifier
from protocol._ed25519 import verify
from protocol.signing import load_public_key_b64
from tests.edge_agent.support import DEVICE, Keys, hours_away, item, now_utc, plan, random_audio, window

AREA = "ban-lim"


class CountingCheck:
    """The agent's own Ed25519 check, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        self.calls += 1
        return verify(public_key, message, signature)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    store = State(tmp_path / "state" / "agent.sqlite3")
    yield store
    store.close()


def _area_play_now(signer: Signer, seq: int, tmp_path: Path, item_id: str = "e-1") -> bytes:
    audio = random_audio(tmp_path / f"{item_id}.mp3", 1000, 1000)
    asset = Asset(audio.sha256, audio.size, audio.duration_ms, f"http://127.0.0.1:9/{audio.sha256}.mp3")
    body = Command("play_now", item=item(item_id, asset, now_utc(), priority="emergency"), repeat=1).to_json()
    return signer.seal_area(kind="cmd", area=AREA, targets=[DEVICE], seq=seq, body=body, issued_at=now_utc())


def test_a_plan_delivered_again_is_a_duplicate_without_a_second_check(keys: Keys, state: State) -> None:
    check = CountingCheck()
    intake = Intake(Verifier([load_public_key_b64(keys.public_b64)], DEVICE, check=check), state)
    opens = hours_away(3, timedelta(minutes=30))
    body = plan(1, [window("later", opens, opens + timedelta(minutes=30))], [])
    retained = keys.plan(5, body)

    assert intake.plan(retained) is not None
    assert intake.plan(retained) is None
    assert (check.calls, intake.duplicates) == (1, 1)
    # Another envelope with the same seq (signed again, so other bytes) is checked, then a duplicate.
    assert intake.plan(keys.plan(5, body)) is None
    assert (check.calls, intake.duplicates) == (2, 2)
    assert intake.rejections() == {}


def test_an_area_message_delivered_again_is_a_duplicate_without_a_second_check(
    keys: Keys, state: State, tmp_path: Path
) -> None:
    check = CountingCheck()
    intake = Intake(Verifier([load_public_key_b64(keys.public_b64)], DEVICE, check=check), state)
    first = _area_play_now(keys.signer, 7, tmp_path)

    assert intake.area_command(AREA, first) is not None
    assert intake.area_command(AREA, first) is None
    assert (check.calls, intake.area_duplicates) == (1, 1)
    # A forged message with a higher seq is still checked and refused; the floor does not move.
    forged = _area_play_now(Signer(Ed25519PrivateKey.generate()), 8, tmp_path, "e-forged")
    assert intake.area_command(AREA, forged) is None
    assert intake.rejections() == {"area.bad_signature": 1}
    assert state.last_seq("area", AREA) == 7
    # A new genuine message is accepted and becomes what a redelivery is compared with.
    second = _area_play_now(keys.signer, 9, tmp_path, "e-2")
    assert intake.area_command(AREA, second) is not None
    assert intake.area_command(AREA, first) is None
    assert intake.rejections() == {"area.bad_signature": 1, "area.replayed": 1}
