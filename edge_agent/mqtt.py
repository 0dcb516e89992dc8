"""The one module that owns the agent's paho-mqtt client: session, will, birth, subscriptions, publishing.

Client id = username = device id, persistent session (clean_session False), last will set before every
connection attempt with a fresh `bdseq`, birth and (re)subscriptions on every connect, exponential
reconnect backoff that starts after a random pause (the agents a broker restart dropped together would
otherwise all come back in the same second, and again together on paho's doubling schedule), TLS for
mqtts:// URLs, and `stuck()`: the liveness check that tells the agent paho has stopped trying. It also
listens to the area topics the agent's plan names (`listen_to_areas`): one subscription per area, made
again on every connect. Topic strings come from protocol.topics. It must not
parse plans or touch the player.
"""

import json
import logging
import random
import threading
from collections.abc import Callable
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from protocol import Status, topics

log = logging.getLogger(__name__)
_RECONNECT_MIN_S: Final = 1
# The longest random pause before the first reconnection attempt after a lost connection (at most
# mqtt.reconnect_max_s); paho's own backoff then doubles from there.
_RECONNECT_JITTER_S: Final = 5.0
# The outgoing queue is bounded: the durable outbox, not paho's memory, is what survives a long outage.
_MAX_QUEUED: Final = 500

MessageHandler = Callable[[topics.DeviceChannel, bytes], None]
AreaHandler = Callable[[str, bytes], None]  # (area code, payload) of a message on an area topic


class Link:
    """The agent's MQTT connection; callbacks run on paho's network thread and must be quick."""

    def __init__(
        self,
        config: AgentConfig,
        clock: Clock,
        *,
        boot_id: str,
        version: str,
        next_bdseq: Callable[[], int],
        on_message: MessageHandler,
        on_change: Callable[[], None],
        on_area_message: AreaHandler | None = None,
    ) -> None:
        self._device = config.device_id
        self._config = config.mqtt
        self._clock = clock
        self._boot_id = boot_id
        self._version = version
        self._next_bdseq = next_bdseq
        self._on_message = on_message
        self._on_change = on_change
        self._on_area_message = on_area_message
        self._areas: tuple[str, ...] = ()
        self._areas_lock = threading.Lock()  # orders listen_to_areas against (re)subscribing on connect
        self._bdseq = 0
        self._closing = False
        self._stopping = threading.Event()  # ends a reconnection pause at once
        self._pause_next_attempt = False
        self._connected = threading.Event()
        self._last_attempt = clock.monotonic()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.device_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self._client.username_pw_set(config.mqtt.username, config.mqtt.password)
        if config.mqtt.tls:
            ca = None if config.mqtt.ca_file is None else str(config.mqtt.ca_file)
            self._client.tls_set(ca_certs=ca)
        self._client.reconnect_delay_set(_RECONNECT_MIN_S, config.mqtt.reconnect_max_s)
        self._client.max_queued_messages_set(_MAX_QUEUED)
        self._client.on_pre_connect = self._handle_pre_connect
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_publish = self._handle_publish
        self._client.on_subscribe = self._handle_subscribe

    @property
    def connected(self) -> bool:
        """True between a successful CONNACK and the next disconnect."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block until connected or `timeout` seconds pass."""
        return self._connected.wait(timeout)

    def stuck(self) -> bool:
        """True when disconnected and paho has made no connection attempt for `mqtt.liveness_s`.

        paho's loop_start() thread is meant to reconnect forever, but it has been seen to stop for good
        after long outages or when a callback raised (eclipse-paho/paho.mqtt.python#785, flyte/mqtt-io#21);
        the agent then exits so systemd restarts it with a fresh client.
        """
        if self.connected or self._closing:
            return False
        return self._clock.monotonic() - self._last_attempt > self._config.liveness_s

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting with backoff."""
        self._client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        """Clean shutdown: publish `offline` ourselves (a clean disconnect sends no will), then close."""
        if self.connected:
            info = self._client.publish(self._topic("status"), self._status("offline"), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=3)
            except (RuntimeError, ValueError) as exc:
                log.warning("offline status not confirmed before shutdown: %s", exc)
        self._closing = True
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes its wake-up socket pair only in __del__, which the garbage collector may run after
        # the sockets' own finalizers (ResourceWarning); paho 2.2 has no public call for it.
        self._client._reset_sockets()

    def publish_event(self, payload: bytes) -> mqtt.MQTTMessageInfo:
        """Publish one outbox event at QoS 1; `info.is_published()` turns True on PUBACK."""
        return self._client.publish(self._topic("events"), payload, qos=1)

    def publish_heartbeat(self, payload: bytes) -> bool:
        """Publish a heartbeat at QoS 0 when connected; False when it was not sent."""
        if not self.connected:
            return False
        return self._client.publish(self._topic("heartbeat"), payload, qos=0).rc == mqtt.MQTT_ERR_SUCCESS

    def publish_birth(self) -> None:
        """Publish the retained `online` status (on connect, and again on `resync`)."""
        self._client.publish(self._topic("status"), self._status("online"), qos=1, retain=True)

    def listen_to_areas(self, areas: tuple[str, ...]) -> None:
        """Subscribe to these areas' topics and leave those no longer named (from the agent's plan).

        Called before the plan is reported as held: the SUBSCRIBE goes out on this connection ahead of
        any later heartbeat or event, so a controller that has seen the plan version knows the agent
        listens.
        """
        with self._areas_lock:
            before, self._areas = self._areas, tuple(areas)
            if not self.connected:
                return  # subscribed on connect
            added = [topics.area_topic(a) for a in areas if a not in before]
            dropped = [topics.area_topic(a) for a in before if a not in areas]
            if added:
                self._client.subscribe([(topic, 1) for topic in added])
            if dropped:
                self._client.unsubscribe(dropped)
        log.info("listening to area topics of %s", ", ".join(areas) or "no area")

    def _topic(self, channel: topics.DeviceChannel) -> str:
        return topics.device_topic(self._device, channel)

    def _status(self, state: str) -> bytes:
        if state == "online":
            status = Status("online", self._bdseq, self._boot_id, self._version, self._clock.now())
        else:
            status = Status("offline", self._bdseq)
        return json.dumps(status.to_json()).encode()

    def _arm_will(self) -> None:
        self._bdseq = self._next_bdseq()
        log.debug("connection attempt with bdseq %s", self._bdseq)
        self._client.will_set(self._topic("status"), self._status("offline"), qos=1, retain=True)

    def _handle_pre_connect(self, _client: mqtt.Client, _userdata: Any) -> None:
        # paho calls this before every connection attempt: each gets its own bdseq and matching will.
        self._last_attempt = self._clock.monotonic()
        if self._pause_next_attempt:
            self._pause_next_attempt = False
            limit = min(_RECONNECT_JITTER_S, float(self._config.reconnect_max_s))
            self._clock.wait(self._stopping, random.uniform(0.0, limit))  # noqa: S311 - spreading, not secrecy
        self._arm_will()

    def _handle_connect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        log.info("connected to %s:%s (bdseq %s)", self._config.host, self._config.port, self._bdseq)
        self.publish_birth()
        with self._areas_lock:
            areas = [(topics.area_topic(area), 1) for area in self._areas]
            self._client.subscribe([(self._topic("plan"), 1), (self._topic("cmd"), 1), *areas])
            self._connected.set()
        self._on_change()

    def _handle_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any
    ) -> None:
        if self._connected.is_set() and not self._closing:
            log.warning("disconnected from the broker: %s", reason)
        self._last_attempt = self._clock.monotonic()  # the liveness clock starts at the disconnect
        if self._connected.is_set() and not self._closing:
            self._pause_next_attempt = True
        self._connected.clear()
        self._on_change()

    def _handle_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: list[Any], _props: Any
    ) -> None:
        refused = [reason for reason in reasons if reason.is_failure]
        if refused:
            # The broker's ACL lets a device read only its own areas: a refusal means the broker's accounts
            # and the plan disagree (the controller reloads the broker before it plans a moved device).
            log.warning("the broker refused %d subscription(s): %s", len(refused), refused)

    def _handle_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        area = topics.parse_area_topic(message.topic)
        if area is not None and area in self._areas and self._on_area_message is not None:
            try:
                self._on_area_message(area, bytes(message.payload))
            except Exception:
                log.exception("handling a message on %s failed", message.topic)
            return
        parsed = topics.parse_device_topic(message.topic)
        if parsed is None or parsed[0] != self._device or parsed[1] not in topics.DOWNLINK_CHANNELS:
            log.warning("ignoring a message on unexpected topic %s", message.topic)
            return
        try:
            self._on_message(parsed[1], bytes(message.payload))
        except Exception:
            # A handler bug must not kill paho's network thread: log it and keep the link up.
            log.exception("handling a message on %s failed", message.topic)

    def _handle_publish(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, _reason: Any, _props: Any
    ) -> None:
        self._on_change()
