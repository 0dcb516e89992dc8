"""A controller storing uplink messages in a child process (LOAXA_MQTT_INGEST_PROCESS): real agents stay
visible through the loss of that child."""

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.mqtt.ingest_process import IngestProcess
from protocol import parse_utc
from tests.integration.conftest import Deployment, deployed, wait_for


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with deployed(tmp_path, opens_in_s=20, length_s=45, mqtt__ingest_process=True) as running:
        yield running


def test_liveness_and_wills_land_through_a_killed_ingest_process(deployment: Deployment) -> None:
    ingestor = deployment.controller.ingestor
    assert isinstance(ingestor, IngestProcess)
    deployment.start_agent("tule-c04")
    wait_for("the agent online", lambda: deployment.device("tule-c04")["online"], 30)
    wait_for("its metrics", lambda: deployment.device("tule-c04").get("metrics"), 10)
    first = ingestor.pid
    assert first is not None and first != os.getpid()

    os.kill(first, signal.SIGKILL)
    killed_at = datetime.now(UTC)
    wait_for(
        "a heartbeat stored after the kill",
        lambda: parse_utc(deployment.device("tule-c04")["last_seen"]) > killed_at,
        15,
    )
    assert ingestor.pid not in (None, first)
    assert ingestor.lost == 1

    # The will (QoS 1 status) goes through the new child.
    deployment.agents["tule-c04"].kill()
    wait_for("the killed agent offline", lambda: not deployment.device("tule-c04")["online"], 10)
    health = deployment.controller.health()
    assert health["ingest"]["accepted"]["heartbeat"] >= 2
    assert health["ingest"]["accepted"]["status"] >= 2  # birth and will
    assert health["ingest_backlog"] == 0 and health["ingest_children_lost"] == 1
