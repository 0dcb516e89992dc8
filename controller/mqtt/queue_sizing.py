"""How many QoS 1 messages the managed broker may queue for one client (mosquitto's max_queued_messages).

Owns the sizing rule only; controller.mqtt.broker writes it into mosquitto.conf. The controller's
persistent session queues the whole fleet's uplink while it stores (or while it is away), and mosquitto
drops what overflows *after* acknowledging it to the device, so the event is lost for good (issue 20: a
fixed 1,000 lost most of a 2,500-event burst, and one device's burst could push out others' events).
A relay holds its commune's events for the province while its link is down, under the same rule.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from controller.mqtt.accounts import BrokerAccount

QUEUE_PER_DEVICE: Final = 1000  # days of one cluster's events (a day of plays is a few hundred)
# mosquitto 2.0 reads max_queued_messages at start only, not on SIGHUP: the floor leaves room for the
# clusters provisioned after the broker started (100,000 events of ~0.5 kB: ~50 MB at worst).
QUEUE_FLOOR: Final = 100_000


def queue_limit(accounts: Iterable["BrokerAccount"]) -> int:
    """QUEUE_PER_DEVICE for each device (a relay's devices too), and never below QUEUE_FLOOR."""
    devices = sum(len(a.devices) if a.role == "bridge" else 1 for a in accounts if a.role != "controller")
    return max(QUEUE_FLOOR, QUEUE_PER_DEVICE * devices)
