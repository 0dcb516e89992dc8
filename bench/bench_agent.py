"""Edge agent benchmark: RSS and CPU of the real agent process while idle and while playing, and the
playback start error against the planned start (p50, p99) over N plays with the file sink; then a relay
slot (issue 13): RSS and CPU while airing a stream (the agent, and its ffmpeg decoder apart), the start
delay, and the failover time from a source that dies (EOF) and one that hangs (no bytes) to the next sound.

Run: .venv/bin/python bench/bench_agent.py [--plays 60] [--idle-s 60] [--stream-s 40] [--dev-venv]
It starts a managed mosquitto on a free loopback port, an HTTP server for one MP3, a paced MP3 stream
server, and `loaxa agent` as a subprocess, then prints each figure next to its target (DESIGN §2, issues 3
and 13). Failover is read from what the file sink aired (the WAV), not from the agent's own events.
"""

import argparse
import compileall
import http.server
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import psutil
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.edge_agent.support

from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker
from loaxa.packaging import stage_agent_lib
from protocol import Asset, PlanBody, PlanItem, Signer, SourcedItem, StreamSource, WindowSpec, topics
from protocol.signing import generate_private_key, public_key_b64
from protocol.timefmt import parse_utc
from tests.edge_agent.streams import Mount, aired, make_stream_mp3, stream_server, tone
from tests.edge_agent.support import make_mp3

DEVICE = "bench-c01"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TARGETS = {"rss_mb": 30.0, "idle_cpu_pct": 1.0, "start_error_p99_s": 0.5, "failover_s": 10.0}  # RSS: issue 18
ROOT = Path(__file__).resolve().parents[1]


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(directory: Path) -> http.server.ThreadingHTTPServer:
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(directory))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *_a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def agent_command(work: Path, dev_venv: bool) -> list[str]:
    """The agent as the .deb runs it: Python without site-packages, on the package's libraries only
    (loaxa.packaging.stage_agent_lib), byte-compiled as its postinst does. A development
    virtualenv holds the controller's libraries too, and paho-mqtt imports some when present (dnspython:
    2.8 MB): `dev_venv` measures that instead."""
    code = "import sys; from edge_agent.cli import main; sys.exit(main(sys.argv[1:]))"
    if dev_venv:
        return [sys.executable, "-c", code]
    lib = work / "usr-lib-loaxa-agent"
    stage_agent_lib(lib, "0+bench")
    compileall.compile_dir(lib, quiet=1)  # as the package's postinst does
    return [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(lib)!r}); {code}"]


def write_config(home: Path, broker_url: str, password: str, key: str) -> Path:
    path = home / "agent.toml"
    path.write_text(
        f"""device_id = "{DEVICE}"
heartbeat_interval_s = 30
[mqtt]
url = "{broker_url}"
password = "{password}"
[controller]
public_keys = ["{key}"]
[paths]
state_dir = "state"
cache_dir = "cache"
[player]
backend = "file"
output_dir = "played"
[clock]
source = "system"
""",
        encoding="utf-8",
    )
    return path


def sample(process: psutil.Process, seconds: float) -> tuple[float, float]:
    """(peak RSS in MB, CPU % of one core) over `seconds`."""
    start_cpu = sum(process.cpu_times()[:2])
    start = time.monotonic()
    peak = 0.0
    while time.monotonic() - start < seconds:
        peak = max(peak, process.memory_info().rss / 2**20)
        time.sleep(0.5)
    cpu = sum(process.cpu_times()[:2]) - start_cpu
    return peak, 100 * cpu / (time.monotonic() - start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def plays(home: Path) -> list[dict[str, Any]]:
    log = home / "played" / "plays.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def plan_plays(signer: Signer, asset: Asset, count: int) -> tuple[bytes, dict[str, datetime], datetime]:
    """A signed plan of `count` plays 2 s apart from 8 s from now; also each item's planned start."""
    now = datetime.now(UTC).replace(microsecond=0)
    first = now + timedelta(seconds=8)
    items = tuple(
        PlanItem(
            item_id=f"b-{n:03d}",
            bulletin_id=1,
            priority="normal",
            asset=asset,
            not_before=first - timedelta(minutes=1),
            not_after=first + timedelta(minutes=30),
            planned_start=first + timedelta(seconds=2 * n),
            repeat=1,
        )
        for n in range(count)
    )
    end = first + timedelta(seconds=2 * count + 60)
    local = [moment.astimezone(TZ).strftime("%H:%M:%S") for moment in (first, end)]
    body = PlanBody(1, now, "Asia/Ho_Chi_Minh", (WindowSpec("bench", local[0], local[1]),), items)
    envelope = signer.seal(kind="plan", device=DEVICE, seq=1, body=body.to_json(), issued_at=now)
    return envelope, {item.item_id: item.planned_start for item in items}, first


def relay_plan(signer: Signer, urls: list[str], filler: Asset, seconds: float) -> tuple[bytes, datetime]:
    """A signed plan (seq 2) of one relay slot of `seconds` from 5 s from now, with a filler."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(seconds=5)
    relay = SourcedItem(
        item_id="relay-1", bulletin_id=2, priority="priority", source=StreamSource("relay", tuple(urls)),
        not_before=start, not_after=start + timedelta(minutes=10), planned_start=start,
        duration_ms=int(seconds * 1000), asset=filler,
    )  # fmt: skip
    local = [m.astimezone(TZ).strftime("%H:%M:%S") for m in (now, start + timedelta(seconds=seconds + 60))]
    body = PlanBody(2, now, "Asia/Ho_Chi_Minh", (WindowSpec("bench", *local),), (), sourced=(relay,))
    return signer.seal(kind="plan", device=DEVICE, seq=2, body=body.to_json(), issued_at=now), start


def sample_tree(process: psutil.Process, seconds: float) -> tuple[float, float, float, float]:
    """(peak RSS MB, CPU %) of the agent, then of its children (the ffmpeg decoders), over `seconds`."""
    start = time.monotonic()
    own0 = sum(process.cpu_times()[:2])
    kids: dict[int, psutil.Process] = {}
    peak = kid_peak = 0.0
    kid_cpu: dict[int, float] = {}
    while time.monotonic() - start < seconds:
        peak = max(peak, process.memory_info().rss / 2**20)
        for child in process.children(recursive=True):
            kids.setdefault(child.pid, child)
        rss = 0.0
        for pid, child in list(kids.items()):
            try:
                rss += child.memory_info().rss / 2**20
                kid_cpu[pid] = sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                kids.pop(pid)
        kid_peak = max(kid_peak, rss)
        time.sleep(0.5)
    elapsed = time.monotonic() - start
    own = sum(process.cpu_times()[:2]) - own0
    return peak, 100 * own / elapsed, kid_peak, 100 * sum(kid_cpu.values()) / elapsed


def first_of(heard: list[int], freq: int, after: float, step: float = 0.5) -> float:
    """Seconds into the recording of the first `step` that aired `freq` at or after `after` s."""
    for i, got in enumerate(heard):
        if i * step >= after and got == freq:
            return i * step
    return float("nan")


def measure_stream(  # noqa: PLR0917 - one call site, the pieces of the running bench
    args: argparse.Namespace,
    work: Path,
    process: psutil.Process,
    controller: mqtt.Client,
    signer: Signer,
    files: Path,
    http_port: int,
) -> list[tuple[str, float, float | None]]:
    """Air a relay slot: the station (440 Hz) dies at 1/3, the controller's relay (880 Hz) hangs at 2/3."""
    seconds = args.stream_s
    filler = make_mp3(files / "filler.mp3", 3.0, freq=660)
    (files / f"{filler.sha256}.mp3").write_bytes((files / "filler.mp3").read_bytes())
    filler_asset = Asset(filler.sha256, filler.size, filler.duration_ms,
                         f"http://127.0.0.1:{http_port}/{filler.sha256}.mp3")  # fmt: skip
    with stream_server() as server:
        server.mounts["/vov1"] = Mount(make_stream_mp3(work / "s1.mp3", tone(440), seconds + 30))
        server.mounts["/relay"] = Mount(make_stream_mp3(work / "s2.mp3", tone(880), seconds + 30))
        envelope, start = relay_plan(
            signer, [server.url("/vov1"), server.url("/relay")], filler_asset, seconds
        )
        controller.publish(
            topics.device_topic(DEVICE, "plan"), envelope, qos=1, retain=True
        ).wait_for_publish(5)
        say(f"relay slot of {seconds:.0f} s from {start:%H:%M:%S} UTC; measuring while it airs")
        time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()) + 2)
        rss, cpu, kid_rss, kid_cpu = sample_tree(process, seconds / 3 - 2)
        server.mounts["/vov1"].killed = True
        killed = datetime.now(UTC)
        time.sleep(seconds / 3)
        server.mounts["/relay"].stalled = True
        stalled = datetime.now(UTC)
        time.sleep(seconds / 3 + 3)
    [record] = [p for p in plays(work / "agent") if p["item_id"] == "relay-1"]
    heard = aired(work / "agent" / "played" / record["file"])
    began = parse_utc(record["started_at"])
    at_kill, at_stall = ((m - began).total_seconds() for m in (killed, stalled))
    return [
        ("stream: RSS agent (MB)", rss, TARGETS["rss_mb"]),
        ("stream: CPU agent (% of a core)", cpu, None),
        ("stream: RSS ffmpeg (MB)", kid_rss, None),
        ("stream: CPU ffmpeg (% of a core)", kid_cpu, None),
        ("stream: start delay (s)", first_of(heard, 440, 0) + (began - start).total_seconds(), None),
        ("failover, source dies (s)", first_of(heard, 880, at_kill) - at_kill, TARGETS["failover_s"]),
        ("failover, source hangs (s)", first_of(heard, 660, at_stall) - at_stall, TARGETS["failover_s"]),
    ]


def measure(
    args: argparse.Namespace, work: Path
) -> tuple[list[tuple[str, float, float | None]], list[float]]:
    """Run everything and return the figures (name, value, target) and the start errors."""
    signer_key = generate_private_key()
    password = secrets.token_urlsafe(16)
    broker = ManagedBroker(work / "broker", port=free_port())
    broker.start(
        [
            BrokerAccount("loaxa-controller", hash_password(password), "controller"),
            BrokerAccount(DEVICE, hash_password(password), "device"),
        ]
    )
    files = work / "files"
    files.mkdir()
    made = make_mp3(files / "a.mp3", 1.0)
    (files / f"{made.sha256}.mp3").write_bytes((files / "a.mp3").read_bytes())
    http_server = serve(files)
    url = f"http://127.0.0.1:{http_server.server_address[1]}/{made.sha256}.mp3"
    asset = Asset(made.sha256, made.size, made.duration_ms, url)
    home = work / "agent"
    home.mkdir()
    config = write_config(home, broker.url, password, public_key_b64(signer_key.public_key()))
    controller = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-controller")
    controller.username_pw_set("loaxa-controller", password)
    controller.connect(broker.host, broker.port)
    controller.loop_start()
    agent = subprocess.Popen(
        [*agent_command(work, args.dev_venv), "--config", str(config)],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    process = psutil.Process(agent.pid)
    try:
        say(f"agent pid {agent.pid}; letting it settle 5 s")
        time.sleep(5)
        say(f"measuring the idle agent for {args.idle_s:.0f} s")
        idle_rss, idle_cpu = sample(process, args.idle_s)
        envelope, planned, first = plan_plays(Signer(signer_key), asset, args.plays)
        controller.publish(
            topics.device_topic(DEVICE, "plan"), envelope, qos=1, retain=True
        ).wait_for_publish(5)
        say(f"plan with {args.plays} plays, 2 s apart, from {first:%H:%M:%S} UTC; measuring while playing")
        play_rss, play_cpu = sample(process, (first - datetime.now(UTC)).total_seconds() + 2 * args.plays)
        deadline = time.monotonic() + 30
        while len(plays(home)) < args.plays and time.monotonic() < deadline:
            time.sleep(0.5)
        errors = [(parse_utc(p["started_at"]) - planned[p["item_id"]]).total_seconds() for p in plays(home)]
        stream_rows = (
            measure_stream(
                args, work, process, controller, Signer(signer_key), files, http_server.server_address[1]
            )
            if args.stream_s > 0
            else []
        )
    finally:
        agent.terminate()
        agent.wait(20)
        controller.loop_stop()
        broker.stop()
        http_server.shutdown()
    p50, p99 = (statistics.median(errors), percentile(errors, 0.99)) if errors else (float("nan"),) * 2
    return [
        ("RSS idle (MB)", idle_rss, TARGETS["rss_mb"]),
        ("RSS playing (MB)", play_rss, TARGETS["rss_mb"]),
        ("CPU idle (% of one core)", idle_cpu, TARGETS["idle_cpu_pct"]),
        ("CPU playing (% of one core)", play_cpu, None),
        ("start error p50 (s)", p50, None),
        ("start error p99 (s)", p99, TARGETS["start_error_p99_s"]),
        *stream_rows,
    ], errors


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--plays", type=int, default=60, help="plays to time (2 s apart)")
    parser.add_argument("--idle-s", type=float, default=60.0, help="seconds to measure the idle agent")
    parser.add_argument(
        "--dev-venv",
        action="store_true",
        help="run the agent in this venv, not as the .deb installs it",
    )
    parser.add_argument("--stream-s", type=float, default=30.0, help="length of the relay slot (0: none)")
    args = parser.parse_args()
    rows, errors = measure(args, Path(tempfile.mkdtemp(prefix="loaxa-bench-agent-")))
    say(f"\n{'figure':32} {'measured':>10} {'target':>10}  ratio")
    for name, value, target in rows:
        ratio = f"{value / target:.2f}" if target else ""
        shown = f"≤ {target:g}" if target else "-"
        say(f"{name:32} {value:10.3f} {shown:>10}  {ratio}")
    if len(errors) < args.plays:
        say(f"only {len(errors)} of {args.plays} plays happened")
        return 1
    say(f"start errors over {len(errors)} plays: min {min(errors):.3f} s, max {max(errors):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
