"""Heartbeat ingestion: heartbeats stored per second by the controller vs a plain paho subscriber.

Both listen on the same managed mosquitto in the same run while publishers send heartbeats for N
devices as fast as they can (QoS 0). The raw subscriber only counts; the controller's real MqttLink and
Ingestor decode, validate and store every heartbeat (liveness, metrics, uptime coverage) in SQLite or
PostgreSQL. Target (issue 8): the controller keeps ≥ 50 % of the raw rate and ≥ 5,000 heartbeats/s on
SQLite.

    .venv/bin/python bench/bench_ingest.py --devices 3000 --messages 60000 [--postgres]
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller import services
from controller.db import Database, upgrade
from controller.mqtt.broker import BrokerAccount, ManagedBroker, hash_password
from controller.mqtt.client import Incoming, MqttLink
from controller.mqtt.ingest import Ingestor
from protocol import Heartbeat, canonical_json, topics
from tests.support.services import free_port, running_postgres

CONTROLLER, SECRET = "loaxa-controller", "bench-secret"


def progress(label: str, done: int, total: int) -> None:
    print(f"\r{label}: {done}/{total}", end="" if done < total else "\n", flush=True)


def provision(db: Database, devices: int) -> list[str]:
    now = datetime.now(UTC)
    ids = [f"b-{n:06d}" for n in range(devices)]
    with db.session() as session:
        services.create_commune(session, "bench", "Xã Benchmark", now)
        services.create_village(session, "v", now, name="Bản Thử", commune_id="bench", languages=["vi"])
    for start in range(0, devices, 500):
        with db.session() as session:
            for device_id in ids[start : start + 500]:
                services.provision_device(session, device_id, now, name=device_id, village_id="v")
        progress("provisioning devices", min(start + 500, devices), devices)
    return ids


class Counter:
    """A plain paho subscriber that only counts heartbeats: the broker's raw delivery rate."""

    def __init__(self, port: int) -> None:
        self.count = 0
        self.first = self.last = 0.0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw")
        self.client.username_pw_set(CONTROLLER, SECRET)
        ready = threading.Event()
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.on_connect = lambda c, *_: c.subscribe(topics.fleet_filter("heartbeat"), qos=0)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        ready.wait(10)

    def _on_message(self, *_: object) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.count += 1


def publish(port: int, ids: list[str], messages: int) -> float:
    """Publish `messages` heartbeats round-robin over the devices; return the seconds it took."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.username_pw_set(CONTROLLER, SECRET)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    # Payloads are made before the clock starts, so the publisher measures the broker, not Python.
    payloads = []
    for n in range(messages):
        hb = Heartbeat(
            seq=n, boot_id="bench-boot", uptime_s=n, sent_at=datetime.now(UTC), clock_synced=True,
            plan_version=1, assets_missing=0, amp_on=False, agent_version="bench", cpu_temp_c=51.2,
            load1=0.3, mem_used_pct=41.0, disk_free_mb=9000.0, net={"type": "4g", "signal_dbm": -79},
        )  # fmt: skip
        payloads.append((topics.device_topic(ids[n % len(ids)], "heartbeat"), canonical_json(hb.to_json())))
    started = time.perf_counter()
    for n, (topic, payload) in enumerate(payloads):
        client.publish(topic, payload, qos=0)
        if n % 10000 == 0:
            progress("publishing heartbeats", n, messages)
            time.sleep(0.01)  # let paho's network thread drain its buffer
    progress("publishing heartbeats", messages, messages)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def run(url: str, devices: int, messages: int, workdir: Path) -> dict[str, float]:
    upgrade(url)
    db = Database(url)
    ids = provision(db, devices)
    broker = ManagedBroker(workdir / "broker", port=free_port())
    broker.start([BrokerAccount(CONTROLLER, hash_password(SECRET), "controller")])
    stored_first = stored_last = 0.0
    stored = 0
    ingestor = Ingestor(db, heartbeat_interval=timedelta(seconds=30))

    def handle(batch: list[Incoming]) -> None:
        nonlocal stored, stored_first, stored_last
        stored_first = stored_first or time.perf_counter()
        ingestor.handle_batch(batch)
        stored += len(batch)
        stored_last = time.perf_counter()

    link = MqttLink(
        url=broker.url, username=CONTROLLER, password=SECRET, client_id="bench-controller",
        handler=handle, clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    try:
        link.start()
        raw = Counter(broker.port)
        publish_s = publish(broker.port, ids, messages)
        # QoS 0: the broker may drop messages for a slow subscriber, so wait until both counts stand still.
        last, still_since = (-1, -1), time.monotonic()
        while time.monotonic() - still_since < 5:
            time.sleep(1)
            now_counts = (raw.count, stored)
            if now_counts != last:
                last, still_since = now_counts, time.monotonic()
                print(f"raw subscriber {raw.count}/{messages}, controller handled {stored}", flush=True)
        link.wait_idle(60)
        raw.client.loop_stop()
        link.stop()
    finally:
        broker.stop()
    accepted = ingestor.counters()["accepted"].get("heartbeat", 0)
    raw_rate = raw.count / max(raw.last - raw.first, 1e-9)
    stored_rate = accepted / max(stored_last - stored_first, 1e-9)
    return {
        "published": messages,
        "published_per_s": messages / publish_s,
        "raw_received": raw.count,
        "raw_per_s": raw_rate,
        "stored": accepted,
        "stored_per_s": stored_rate,
        "ratio": stored_rate / raw_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=3000)
    parser.add_argument("--messages", type=int, default=60000)
    parser.add_argument("--postgres", action="store_true", help="also run against a throw-away PostgreSQL")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp, ExitStack() as stack:
        backends = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if args.postgres:
            backends["postgresql"] = stack.enter_context(running_postgres())
        for name, url in backends.items():
            print(f"== {name}")
            results[name] = run(url, args.devices, args.messages, Path(tmp) / name)
    print()
    header = f"{'backend':<11}{'published/s':>12}{'raw/s':>10}{'stored/s':>10}{'stored/raw':>11}{'stored':>9}"
    print(f"{header}  target")
    for name, r in results.items():
        target = "≥ 50 % and ≥ 5,000/s" if name == "sqlite" else "≥ 50 %"
        print(
            f"{name:<11}{r['published_per_s']:>12,.0f}{r['raw_per_s']:>10,.0f}{r['stored_per_s']:>10,.0f}"
            f"{r['ratio']:>10.0%}{r['stored']:>9,}  {target}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
