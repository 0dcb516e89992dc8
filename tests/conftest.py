"""Shared fixtures: real mosquitto and PostgreSQL on free loopback ports (DESIGN §10)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import BrokerFixture, running_broker, running_postgres


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerFixture]:
    """A fresh managed mosquitto for one test, with the controller account `loaxa-controller`."""
    with running_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One real PostgreSQL server for the session; tests create their own schemas or databases."""
    with running_postgres() as url:
        yield url
