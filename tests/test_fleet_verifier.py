"""The fleet simulator's `cryptography` verifier (loaxa/fleet.py): the same verdicts as the agent's own
plain-Python check, and an agent of such a fleet still refuses a forged plan over the real broker."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from loaxa.fleet import Fleet, cryptography_check
from protocol import _ed25519
from tests.edge_agent.support import (
    DEVICE,
    DEVICE_PASSWORD,
    Controller,
    Keys,
    hours_away,
    plan,
    wait_until,
    window,
    write_config,
)
from tests.support.services import BrokerFixture

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@settings(max_examples=30, deadline=None)
@given(message=st.binary(max_size=500), flip=st.integers(min_value=0, max_value=64 * 8 - 1))
def test_cryptography_check_agrees_with_the_agents_own(message: bytes, flip: int) -> None:
    genuine = KEY.sign(message)
    assert cryptography_check(PUBLIC, message, genuine) is _ed25519.verify(PUBLIC, message, genuine) is True
    signature = bytearray(genuine)
    signature[flip // 8] ^= 1 << (flip % 8)
    forged = bytes(signature)
    assert cryptography_check(PUBLIC, message, forged) is _ed25519.verify(PUBLIC, message, forged) is False


def test_a_key_that_is_no_curve_point_verifies_nothing() -> None:
    not_a_point = next(
        bytes([i]) + bytes(31) for i in range(2, 256) if _ed25519.decode_point(bytes([i]) + bytes(31)) is None
    )
    assert not cryptography_check(not_a_point, b"", bytes(64))


@pytest.fixture
def fleet_controller(broker: BrokerFixture) -> Iterator[Controller]:
    broker.add(DEVICE, DEVICE_PASSWORD)
    client = Controller(broker)
    yield client
    client.close()


def test_a_fleet_agent_checking_with_cryptography_accepts_signed_plans_and_refuses_forged_ones(
    tmp_path: Path, broker: BrokerFixture, fleet_controller: Controller
) -> None:
    keys = Keys()
    fleet = Fleet([write_config(tmp_path, broker, [keys.public_b64])], verifier="cryptography")
    opens = hours_away(3, timedelta(minutes=30))
    windows = [window("later", opens, opens + timedelta(minutes=30))]
    fleet.start()
    try:
        wait_until(lambda: fleet.connected() == 1, what="the agent connected")
        fleet_controller.publish("plan", Keys().plan(2, plan(2, windows, [])))
        fleet_controller.publish("plan", keys.plan(1, plan(1, windows, [])))
        fleet_controller.wait_event("received")
        wait_until(lambda: fleet.agents[0].rejections() == {"plan.bad_signature": 1}, what="one rejection")
    finally:
        fleet.stop()
    assert [e["plan_version"] for e in fleet_controller.events("received")] == [1]
