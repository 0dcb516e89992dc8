"""The one module that owns the controller's paho client (DESIGN §5).

It connects with the controller's credentials, re-subscribes to the uplink channels (shared groups, so
several controller workers split the load) on every connect, and hands each message with its receive
time to a backlog drained in batches by a worker thread, so database writes do not hold up paho's network
loop. Publishing plans and commands goes through here too. It knows no database and no message contents.

The backlog is bounded. When storage falls behind for longer than the backlog lasts, paho's thread waits
for room instead of reading on, so TCP pushes back on the broker, which holds the QoS 1 messages for us and
drops heartbeats (QoS 0) past its own queue limit: memory stays bounded, and the core goes to storing
rather than to receiving what could not be stored.

Nothing a device sent at QoS 1 (status, events) is lost to a controller crash or restart: the session is
persistent under a stable client id, so the broker keeps what arrives while the controller is away, and a
message is acknowledged only after the handler has stored it, so one received but not yet stored when the
process dies is sent again when it comes back.
"""

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from protocol import topics
from protocol.broker_url import parse_broker_url

log = logging.getLogger(__name__)


class Incoming(NamedTuple):
    """One uplink message as received: who sent it, on which channel, when we got it."""

    device_id: str
    channel: topics.DeviceChannel
    payload: bytes
    received_at: datetime


Handler = Callable[[list[Incoming]], None]

# A failing batch (the database is unreachable) is retried after these pauses, then left unacknowledged:
# the broker sends it again on the next connection.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
# Messages received and not yet stored, at most: a few seconds of a province's heartbeats at full speed.
MAX_BACKLOG = 20_000
# QoS 1 messages in flight to the broker at once (paho's default is 20): a planning run's batch of plans
# goes out as a window instead of trickling at 20 per round trip.
MAX_INFLIGHT = 200
FULL_LOG_EVERY_S = 60.0
# Messages stored per transaction, at most. Batches grow this large only while the backlog is long (one
# is taken whenever storing is free), and then a larger one costs less per message: one commit, one read
# of the devices' state, and a device's several heartbeats written once (docs/benchmarks.md).
BATCH_MAX = 2_000


class _Received(NamedTuple):
    """A message in the backlog and what acknowledging it takes (mid and QoS of its PUBLISH packet)."""

    incoming: Incoming
    mid: int
    qos: int


class MqttLink:
    """The controller's connection to the broker: uplink ingestion and downlink publishing."""

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        client_id: str,
        handler: Handler,
        clock: Callable[[], datetime],
        shared: bool = True,
        persistent: bool = True,
        batch_max: int = BATCH_MAX,
        max_backlog: int = MAX_BACKLOG,
        on_connected: Callable[[], None] | None = None,
        retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        # `unix:///path` is the managed broker's own listener for the controller (client ids kept there).
        transport: Literal["tcp", "unix"] = "unix" if url.startswith("unix://") else "tcp"
        if transport == "unix":
            self._host, self._port, tls = url.removeprefix("unix://"), 1, False  # paho ignores the port
        else:
            self._host, self._port, tls = parse_broker_url(url)
        self._handler = handler
        self._on_connected = on_connected
        self._clock = clock
        self._shared = shared
        self._batch_max = batch_max
        self._max_backlog = max(max_backlog, batch_max)
        self._retry_delays_s = retry_delays_s
        self._backlog: deque[_Received] = deque()
        self._unfinished = 0  # received and not yet handled: the backlog plus the batch being stored
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._worker: threading.Thread | None = None
        self.handler_errors = 0
        self.backlog_full = 0  # how often paho's thread has had to wait for room
        self._full_logged_at = -FULL_LOG_EVERY_S
        # persistent: the broker keeps the session (subscriptions, QoS 1 messages) while we are away;
        # manual_ack: a PUBACK goes out only once the handler has stored the message.
        self._client_args = (client_id, not persistent, transport, username, password, tls)
        self._client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        client_id, clean_session, transport, username, password, tls = self._client_args
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=clean_session,
            manual_ack=True,
            transport=transport,
        )
        client.username_pw_set(username, password)
        if tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    @property
    def connected(self) -> bool:
        """True while the broker session is up."""
        return self._connected.is_set()

    def responsive(self, timeout: float = 2.0) -> bool:
        """Whether the broker acknowledges a message within `timeout` (a frozen one keeps the TCP link up).

        `connected` alone stays true until the keepalive runs out (up to 1.5 × 30 s): a broker that is
        stopped but not dead looks connected all that time.
        """
        return self.connected and self.publish(topics.CONTROLLER_PROBE, b"", timeout=timeout)

    def start(self, *, wait_s: float = 10.0) -> None:
        """Connect (retrying in the background) and start the network loop and the ingest worker.

        A stopped link may be started again: a new paho client (paho's loop_start after loop_stop leaks
        its wake-up sockets) resumes the persistent session under the same client id.
        """
        if self._stopping.is_set():
            self._stopping.clear()
            self._client = self._new_client()
        self._worker = threading.Thread(target=self._drain, name="mqtt-ingest", daemon=True)
        self._worker.start()
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if wait_s and not self._connected.wait(wait_s):
            log.warning("broker %s:%s not reachable yet; retrying in the background", self._host, self._port)

    @property
    def backlog(self) -> int:
        """Messages received and not yet stored."""
        return self._unfinished

    def stop(self) -> None:
        """Let the worker store and acknowledge what was already received, then disconnect."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        """Publish at QoS 1; with a timeout, wait for the broker's PUBACK and say whether it came."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("publish to %s not queued: %s", topic, mqtt.error_string(info.rc))
            return False
        if timeout is None:
            return True
        try:
            info.wait_for_publish(timeout)
        except RuntimeError:
            return False
        return info.is_published()

    def publish_many(
        self, messages: Sequence[tuple[str, bytes, bool]], *, timeout: float = 5.0
    ) -> list[bool]:
        """Publish (topic, payload, retain) messages at QoS 1 at once, then wait for their PUBACKs.

        One wait of at most `timeout` seconds for all; says for each whether the broker took it.
        """
        infos: list[mqtt.MQTTMessageInfo | None] = []
        for topic, payload, retain in messages:
            queued = self._client.publish(topic, payload, qos=1, retain=retain)
            if queued.rc != mqtt.MQTT_ERR_SUCCESS:
                log.warning("publish to %s not queued: %s", topic, mqtt.error_string(queued.rc))
            infos.append(queued if queued.rc == mqtt.MQTT_ERR_SUCCESS else None)
        deadline = time.monotonic() + timeout
        taken = []
        for info in infos:
            if info is not None and not info.is_published():
                # Not sent (the link dropped) raises: counted as not taken below.
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            taken.append(info is not None and info.is_published())
        return taken

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every received message has been handled (for orderly shutdown and tests)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the controller: %s", reason)
            return
        subscriptions = [
            (topics.shared_filter(channel) if self._shared else topics.fleet_filter(channel), 1)
            for channel in topics.UPLINK_CHANNELS
        ]
        client.subscribe(subscriptions)
        self._connected.set()
        log.info("connected to broker %s:%s", self._host, self._port)
        if self._on_connected is not None:
            # A broker that restarted without its persistence file has lost the retained plans; the
            # callback re-publishes them (agents ignore a plan whose seq they already hold).
            self._on_connected()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        self._connected.clear()
        log.warning("disconnected from broker: %s", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        parsed = topics.parse_device_topic(message.topic)
        if parsed is None or parsed[1] not in topics.UPLINK_CHANNELS:
            log.warning("ignored message on unexpected topic %s", message.topic)
            self._client.ack(message.mid, message.qos)
            return
        received = _Received(
            Incoming(parsed[0], parsed[1], bytes(message.payload), self._clock()), message.mid, message.qos
        )
        with self._changed:
            if len(self._backlog) >= self._max_backlog:
                self._wait_for_room()
            self._backlog.append(received)
            self._unfinished += 1
            if len(self._backlog) == 1:
                self._changed.notify_all()

    def _wait_for_room(self) -> None:
        """Block paho's thread (holding `_changed`) until the worker has taken a batch off the backlog."""
        self.backlog_full += 1
        now = time.monotonic()
        if now - self._full_logged_at > FULL_LOG_EVERY_S:  # once a minute while overloaded, not per batch
            self._full_logged_at = now
            log.warning(
                "ingest backlog full (%d messages, %d times so far): reading from the broker pauses",
                len(self._backlog),
                self.backlog_full,
            )
        while len(self._backlog) >= self._max_backlog and not self._stopping.is_set():
            self._changed.wait(1.0)

    def _drain(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._backlog or self._stopping.is_set())
                if not self._backlog:
                    return  # stopping, and everything received has been handled
                batch = [self._backlog.popleft() for _ in range(min(len(self._backlog), self._batch_max))]
                self._changed.notify_all()  # room for paho's thread, if it waits
            try:
                if self._handle(batch):
                    for received in batch:
                        self._client.ack(received.mid, received.qos)
            finally:
                with self._changed:
                    self._unfinished -= len(batch)
                    self._changed.notify_all()

    def _handle(self, batch: list[_Received]) -> bool:
        """Run the handler on a batch, retrying while it fails; True once it has stored the batch."""
        incoming = [received.incoming for received in batch]
        for attempt, pause in enumerate((*self._retry_delays_s, None), start=1):
            try:
                self._handler(incoming)
            except Exception:
                # Counted in health and logged with its traceback; ingestion of the fleet goes on.
                self.handler_errors += 1
                log.exception(
                    "ingest handler failed on a batch of %d messages (attempt %d)", len(batch), attempt
                )
                if pause is None or self._stopping.wait(pause):
                    break
            else:
                return True
        # Not acknowledged: the broker holds QoS 1 messages for this session and sends them again when
        # the controller reconnects (QoS 0 heartbeats are gone; the next one arrives within 30 s).
        log.error(
            "gave up on a batch of %d messages; QoS 1 ones come back on the next connection", len(batch)
        )
        return False
