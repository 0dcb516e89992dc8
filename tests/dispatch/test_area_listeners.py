"""Which devices the controller reaches on their area topics, and which on their own (older agents)."""

import pytest

from controller.dispatch.listeners import listens_on_areas
from controller.services import DeviceReach


@pytest.mark.parametrize(
    ("reach", "stored", "expected"),
    [
        (DeviceReach(("ban-lim",), "0.1.0", 4), 4, True),
        (DeviceReach(("ban-lim",), "0.2.0+local", 5), 4, True),  # reports a newer plan than we read
        (DeviceReach(("ban-lim",), "0.1.0", 3), 4, False),  # has not reported the plan naming its area
        (DeviceReach(("ban-lim",), "0.1.0", None), 4, False),  # no heartbeat yet
        (DeviceReach(("ban-lim",), "0.0.9", 4), 4, False),  # an agent from before area topics
        (DeviceReach(("ban-lim",), None, 4), 4, False),  # never sent a birth with its version
        (DeviceReach(("ban-lim",), "0+unknown", 4), 4, False),  # a checkout without package metadata
        (DeviceReach((), "0.1.0", 4), 4, False),  # in no area
        (DeviceReach(("ban-lim",), "0.1.0", 4), None, False),  # no stored plan
        (None, 4, False),
    ],
)
def test_a_device_is_reached_on_its_area_only_once_it_listens_there(
    reach: DeviceReach | None, stored: int | None, expected: bool
) -> None:
    assert listens_on_areas(reach, stored) is expected
