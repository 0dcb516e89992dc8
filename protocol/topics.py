"""Every MQTT topic string loaxa uses is built here, nowhere else (DESIGN §5).

Device topics carry one device's plan, commands and uplink; area topics (`loaxa/v1/area/{area}/cmd`) carry
a signed message once for every device of an area (a village or commune area code), each acting only when
it is among the message's targets.
"""

import re
from typing import Final, Literal

PREFIX: Final = "loaxa/v1"
SHARE_GROUP: Final = "loaxa"

DeviceChannel = Literal["plan", "cmd", "status", "heartbeat", "events"]
DEVICE_CHANNELS: Final[tuple[DeviceChannel, ...]] = ("plan", "cmd", "status", "heartbeat", "events")
DOWNLINK_CHANNELS: Final[tuple[DeviceChannel, ...]] = ("plan", "cmd")
UPLINK_CHANNELS: Final[tuple[DeviceChannel, ...]] = ("status", "heartbeat", "events")
# Area codes as the controller's area tree allows them: each becomes a topic level, so never a wildcard.
AREA_CODE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


# The controller publishes here, at QoS 1, to learn whether the broker still answers (nobody subscribes).
CONTROLLER_PROBE: Final = f"{PREFIX}/controller/probe"


def device_topic(device_id: str, channel: DeviceChannel) -> str:
    """The topic of one device's channel, e.g. ``loaxa/v1/dev/tule-c01/plan``."""
    return f"{PREFIX}/dev/{device_id}/{channel}"


def fleet_filter(channel: DeviceChannel) -> str:
    """A filter matching one channel of every device, e.g. ``loaxa/v1/dev/+/heartbeat``."""
    return f"{PREFIX}/dev/+/{channel}"


def shared_filter(channel: DeviceChannel, group: str = SHARE_GROUP) -> str:
    """A shared-subscription filter so several controller workers split the uplink load."""
    return f"$share/{group}/{fleet_filter(channel)}"


def area_topic(area: str) -> str:
    """The command topic of an area (a village's or commune's area code), e.g. ``loaxa/v1/area/tule/cmd``."""
    return f"{PREFIX}/area/{area}/cmd"


AREA_FILTER: Final = f"{PREFIX}/area/+/cmd"  # every area's command topic (a commune relay's bridge)


def parse_area_topic(topic: str) -> str | None:
    """The area code of an area command topic; None when it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX or parts[2] != "area" or parts[4] != "cmd":
        return None
    return parts[3] or None


def parse_device_topic(topic: str) -> tuple[str, DeviceChannel] | None:
    """Split a device topic into (device id, channel); None when it is not one of ours."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX or parts[2] != "dev":
        return None
    device_id, channel = parts[3], parts[4]
    for known in DEVICE_CHANNELS:
        if channel == known and device_id:
            return device_id, known
    return None
