"""Fixtures for the edge agent tests: a device account on the real broker, keys, short real MP3s."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from tests.edge_agent.support import (
    DEVICE,
    DEVICE_PASSWORD,
    Audio,
    Controller,
    Keys,
    make_mp3,
    wait_past_local_midnight,
)
from tests.support.services import BrokerFixture

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Plan windows are local clock times: the agent tests' windows (at most 1 min before and 5 min
    after now) cannot straddle midnight, so a run that reaches it waits once until it is past.

    The wait happens before pytest-timeout starts a test's clock (this wrapper runs outside its own), so
    the minutes around midnight do not count against a test's timeout. pytest calls this hook for every
    test of the run, not only for those under this directory.
    """
    if HERE in item.path.parents:
        wait_past_local_midnight(timedelta(minutes=6))
    yield


@pytest.fixture(scope="session")
def short_mp3(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    """A real 1.5 s MP3 (440 Hz) made with ffmpeg."""
    return make_mp3(tmp_path_factory.mktemp("audio") / "short.mp3", 1.5)


@pytest.fixture(scope="session")
def other_mp3(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    """A second, different 1.0 s MP3 (880 Hz): the emergency bulletin."""
    return make_mp3(tmp_path_factory.mktemp("audio") / "other.mp3", 1.0, freq=880)


@pytest.fixture
def keys() -> Keys:
    """The controller's signing key for one test."""
    return Keys()


@pytest.fixture
def device_broker(broker: BrokerFixture) -> BrokerFixture:
    """The broker with the test device's account."""
    broker.add(DEVICE, DEVICE_PASSWORD)
    return broker


@pytest.fixture
def controller(device_broker: BrokerFixture) -> Iterator[Controller]:
    """A controller-side client subscribed to the device's uplink."""
    client = Controller(device_broker)
    yield client
    client.close()


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's mock pins (the only fake: the GPIO hardware)."""
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    factory.reset()
    Device.pin_factory = None


def played_dir(tmp_path: Path) -> Path:
    """Where the file sink writes in these tests (the config says `played`)."""
    return tmp_path / "played"
