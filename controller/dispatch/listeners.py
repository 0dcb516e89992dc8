"""Which devices listen on their area topics (`loaxa/v1/area/{area}/cmd`, DESIGN §5).

A message for many of them then goes once per area; every other device gets it on its own topic.

Owns that rule and the first agent version that knows area topics. It reads only what a planning run
gathered (controller.dispatch.inputs) and must not send anything (controller.dispatch.publisher does).
"""

import re
from collections.abc import Iterable
from typing import Final

from controller import services
from controller.dispatch.inputs import RunInputs

# The first agent release that listens to area topics; an agent whose birth names an older version (or
# none) gets every message on its own topic. Every agent released so far is 0.1.0, and area topics came
# with it: raise this with the version of the release that ships them if an older 0.1.0 is in the field.
AREA_TOPICS_SINCE: Final = (0, 1, 0)
_VERSION_PREFIX: Final = re.compile(r"\d+(?:\.\d+)*")


def listens_on_areas(reach: services.DeviceReach | None, plan_version: int | None) -> bool:
    """Whether a device listens to its area topics: an agent version that does, holding `plan_version`.

    The plan names the device's areas and the agent subscribes before it reports the plan as held, so
    a heartbeat with this version (or a later one) means the subscription was made on that connection,
    and the persistent session and every reconnect keep it. Anything less: its own topic.
    """
    if reach is None or not reach.areas or reach.plan_version is None or plan_version is None:
        return False
    found = _VERSION_PREFIX.match(reach.agent_version or "")
    if found is None:
        return False
    return tuple(int(part) for part in found.group().split(".")) >= AREA_TOPICS_SINCE and (
        reach.plan_version >= plan_version
    )


def area_listeners(run: RunInputs, devices: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Those of `devices` that listen on their area topics now, with those areas.

    A device listens once its agent reported (heartbeat) the version of the plan it held when this run
    began, that plan named the areas the registry gives it now, and its agent version knows area topics
    (`listens_on_areas`); every other device is sent its messages on its own topic.
    """
    out = {}
    for device_id in devices:
        reach, held = run.reach.get(device_id), run.held.get(device_id)
        if (
            held is not None
            and reach is not None
            and held.areas == reach.areas
            and listens_on_areas(reach, held.version)
        ):
            out[device_id] = reach.areas
    return out
