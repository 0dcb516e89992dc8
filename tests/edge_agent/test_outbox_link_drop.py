"""An event whose publish paho never sent (the link dropped under it) is sent again, not the agent's end.

Seen with 1,000 simulated agents on two cores (bench/bench_emergency.py): keepalives ran out, and
`is_published()` on such a message raised RuntimeError out of the agent's loop, which then stopped.
"""

from pathlib import Path

import paho.mqtt.client as mqtt

from edge_agent.outbox import Outbox
from edge_agent.state import State
from tests.edge_agent.test_rate_bound import AckingLink, SteppedClock


class DroppingLink(AckingLink):
    """Says it is connected, but the first publish finds the connection gone (paho's MQTT_ERR_NO_CONN)."""

    def publish_event(self, payload: bytes) -> mqtt.MQTTMessageInfo:
        if self.sent:
            return super().publish_event(payload)
        self.sent.append(payload)
        info = mqtt.MQTTMessageInfo(1)
        info.rc = mqtt.MQTT_ERR_NO_CONN
        return info


def test_an_event_paho_never_sent_goes_out_again(tmp_path: Path) -> None:
    state = State(tmp_path / "agent.sqlite3")
    link = DroppingLink()
    outbox = Outbox(state, link, SteppedClock(), "boot", events_per_s=10)
    outbox.emit("failed", reason="test")
    outbox.flush()  # publishes: paho did not send it
    outbox.flush()  # finds it unsent and drops it from the window
    outbox.flush()  # publishes it again; the broker takes it
    assert outbox.flush() == 0
    assert len(link.sent) == 2 and link.sent[0] == link.sent[1]
    state.close()
