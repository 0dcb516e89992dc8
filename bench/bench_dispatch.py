"""Dispatch: from approval to every agent holding the verified audio, against a plain parallel download.

For each N (default 12, 200 and 1,000) one real controller (managed mosquitto, SQLite in a temp dir,
waitress) gets N provisioned devices and N real edge agents (`loaxa.fleet.Fleet`: each agent its own
MQTT connection, credentials, state database and cache, playing into a file sink). An operator uploads a
recording sized so the stored asset (mono MP3 at the controller's 64 kbit/s) is ~1 MiB and submits it;
the clock starts at the approver's `POST /bulletins/{id}/approve` and stops when every agent's cache holds
the file (the agent renames it into place only after its sha256 check; the worker hashes it again). The
controller's view is timed too: all `asset_ready` events ingested, and all deliveries `delivered`.

Baseline, in the same run and from the same processes: N client threads GET the same asset by a signed
URL from the same web server at once, read it whole and check its sha256 (in memory, no fsync). It runs
just before the approval and again after the dispatch; the ratio uses the faster of the two (on a shared
machine this errs against the dispatch path), and both are printed.

The agents run in worker processes of at most `--per-process` agents each (see LIMITS below), which also
keeps them off the controller's GIL, as on real hardware; the baseline's client threads run in the same
worker processes, as many per process as agents. The workers are this script with `--worker`.

    .venv/bin/python bench/bench_dispatch.py [--agents 12,200,1000] [--quick] [--per-process 100]
        [--link-kbit K] [--link-rtt-ms R]

By default everything talks over loopback, where the baseline is a 1 MiB copy between processes that no
real link reaches, so the dispatch path's fixed costs (approval request, planning run, signature check,
fsync) dominate the ratio. `--link-kbit K` (and `--link-rtt-ms R`, default 0) puts an emulated link
(bench/emulated_link.py, a proxy in its own process) between every download and the controller's web
server: each connection gets at most K kbit/s towards the client, R/2 ms of delay each way and one RTT for
its TCP handshake. The controller's `http.public_url` points at the proxy, so the agents' signed asset URLs
and the baseline's clients go through it alike. With R > 0 the agents' MQTT connections go through a
second proxy with the same RTT and no rate limit (the controller's `mqtt.public_url`, which their bundles
carry): MQTT messages are tiny, but on a real 4G link each round trip (plan → `received`, announcement →
download) costs about R. The operator's and approver's API calls stay direct. What the emulation does not
model (a capacity shared between connections, loss, TCP's slow start over the RTT) is in that module's
docstring.

LIMITS: paho-mqtt 2.2 waits on its socket with select.select(), which fails for file descriptors >= 1024
(FD_SETSIZE), and each in-process agent holds 6 (MQTT socket, paho's wake-up socket pair, SQLite state
database with WAL and shm); so one process runs at most ~165 agents whatever RLIMIT_NOFILE says (measured:
140 of 200 connected in one process). Agent homes go to /dev/shm by default (`--agents-on-disk` to put
them on disk): one virtual disk shared by 1,000 simulated Pis serialises their fsyncs, which real Pis,
each with its own SD card, do not.
"""

import argparse
import contextlib
import cProfile
import hashlib
import json
import logging
import os
import pstats
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

# The tree whose code runs: this checkout, or another (LOAXA_BENCH_TREE, e.g. the code before a change
# unpacked with `git archive`), so one run can time both; worker processes inherit it.
ROOT = Path(os.environ.get("LOAXA_BENCH_TREE") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

from emulated_link import EmulatedLink, Link  # noqa: E402 - bench/, beside this script
from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from controller import services  # noqa: E402
from controller.assets import sign_asset_url  # noqa: E402
from controller.config import load_settings  # noqa: E402
from controller.db.models import Delivery, Device, DeviceEvent, Plan  # noqa: E402
from controller.dispatch import ReplanReport  # noqa: E402
from loaxa.fleet import FLEET_VERIFIERS  # noqa: E402
from loaxa.runtime import Controller  # noqa: E402
from tests.support.services import free_port  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "bench-dispatch-password"  # noqa: S105 - throw-away users of a throw-away controller
COMMUNE, VILLAGE = "bench", "bench-village"
BITRATE_KBPS = 64  # what the controller encodes recordings at (controller.tts.recording)
TARGET_BYTES = 1 << 20
MAX_PER_PROCESS = 150
SHM = Path("/dev/shm")  # noqa: S108 - tmpfs for the simulated Pis' homes, each in its own mkdtemp
LOG = Path(tempfile.gettempdir()) / f"loaxa-bench-dispatch-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
TIMEOUT_S = 900.0
VERIFIER_NAMES = {
    "agent": "the agent's own plain-Python Ed25519 (as on a Pi)",
    "cryptography": "cryptography's Ed25519 (a fleet-only option: a Pi agent does not load it)",
}


def say(text: str) -> None:
    print(text, flush=True)


_last_progress = [0.0]


def progress(text: str, *, done: bool = False) -> None:
    """A progress line: rewritten in place on a terminal, else printed every 5 s and when done."""
    if sys.stdout.isatty():
        print(f"\r  {text}\x1b[K", end="\n" if done else "", flush=True)
    elif done or time.monotonic() - _last_progress[0] >= 5:
        _last_progress[0] = time.monotonic()
        print(f"  {text}", flush=True)


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE to the hard limit (children inherit it: mosquitto, the workers)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- worker process: a Fleet of agents, and the baseline's clients ---------------------------------------


def _send(out: IO[str], lock: threading.Lock, message: dict[str, Any]) -> None:
    with lock:
        out.write(json.dumps(message) + "\n")
        out.flush()


def _download(url: str, sha256: str, size: int) -> tuple[float, str | None]:
    """GET the whole file and check its sha256 (the baseline client); (monotonic end, error or None)."""
    digest, got = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - our own server
            while chunk := response.read(64 * 1024):
                digest.update(chunk)
                got += len(chunk)
    except (OSError, urllib.error.URLError) as exc:
        return time.monotonic(), f"{type(exc).__name__}: {exc}"
    if got != size or digest.hexdigest() != sha256:
        return time.monotonic(), f"got {got} bytes hashing to {digest.hexdigest()[:12]}"
    return time.monotonic(), None


def _baseline(clients: int, url: str, sha256: str, size: int, at: float) -> list[tuple[float, str | None]]:
    results: list[tuple[float, str | None]] = [(0.0, "not run")] * clients

    def client(number: int) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        results[number] = _download(url, sha256, size)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class ThreadProfiles:
    """CPU-time profiles (cProfile with `time.thread_time`) of every thread of a worker, from `arm()` on.

    Python 3.11 sets a profiler only for the calling thread or for threads started later, so a light hook
    goes into every thread at its start and turns into a real profiler on the thread's first call after
    `arm()`; `write()` merges what they measured so far (calls still running are not counted).
    """

    def __init__(self) -> None:
        self._armed = False
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        threading.setprofile(self._hook)

    def _hook(self, _frame: Any, _event: str, _arg: Any) -> None:
        if not self._armed:
            return
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def arm(self) -> None:
        """Profile from now on."""
        self._armed = True
        sys.setprofile(self._hook)

    def write(self, path: Path) -> int:
        """Merge the threads' profiles so far into a pstats file; how many threads were profiled."""
        with self._lock:
            profiles = list(self._profiles)
        merged = pstats.Stats()
        for profile in profiles:
            profile.snapshot_stats()  # reads without disabling: create_stats would stop this thread's
            merged.add(_Snapshot(profile.stats))  # type: ignore[attr-defined]
        merged.dump_stats(path)
        return len(profiles)


@dataclass
class _Snapshot:
    """What pstats.Stats.add takes: an object with `stats` and a `create_stats` to call."""

    stats: dict[Any, Any]

    def create_stats(self) -> None:
        """Nothing to do: `stats` is already taken."""


def worker_main() -> int:
    """Run a slice of the fleet; talk JSON lines with the bench on stdin/stdout."""
    from edge_agent.downloader import asset_path
    from loaxa.fleet import Fleet, simulated_bundle, write_simulated_agent

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    raise_fd_limit()
    out, lock = sys.stdout, threading.Lock()
    spec = json.loads(sys.stdin.readline())
    profiles = ThreadProfiles() if spec.get("profile") else None
    # A hundred agents' threads wait on one GIL: each waiter wakes every switch interval (5 ms by default)
    # to ask for it, and in a burst those wake-ups are most of the CPU a worker burns (`--switch-interval`).
    sys.setswitchinterval(spec.get("switch_interval", sys.getswitchinterval()))
    root = Path(spec["root"])
    configs = [
        write_simulated_agent(
            root,
            simulated_bundle(
                agent["id"], agent["password"], spec["broker_url"], tuple(spec["public_keys"]), 30.0
            ),
        )
        for agent in spec["agents"]
    ]
    fleet = Fleet(configs, verifier=spec.get("verifier", "agent"))
    fleet.start(lambda n, _total: _send(out, lock, {"started": n}) if n % 10 == 0 else None)
    sha256, size = spec["sha256"], spec["bytes"]
    files = {c.device_id: asset_path(c.cache_dir, sha256) for c in configs}
    stop = threading.Event()

    def watch() -> None:
        """Report agents' connections, then each agent's cache getting the verified file (50 ms polls)."""
        connected = -1
        waiting = dict(files)
        while not stop.is_set():
            now_connected = fleet.connected()
            if now_connected != connected:
                connected = now_connected
                _send(out, lock, {"connected": connected})
            held = [device for device, path in waiting.items() if path.exists()]
            if held:
                now = time.monotonic()
                for device in held:
                    del waiting[device]
                _send(out, lock, {"held": [[device, now] for device in held]})
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, name="bench-watch", daemon=True)
    watcher.start()
    _send(out, lock, {"threads": threading.active_count(), "fds": len(os.listdir("/proc/self/fd"))})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "baseline":
            results = _baseline(len(configs), command["url"], sha256, size, command["at"])
            _send(out, lock, {"baseline": results})
        elif command["cmd"] == "verify":
            bad = [d for d, p in files.items() if not p.exists() or _sha256(p) != sha256]
            _send(out, lock, {"verified": len(files) - len(bad), "bad": bad[:5]})
        elif command["cmd"].startswith("profile") and profiles is not None:
            _send(out, lock, _profile_command(profiles, command))
        elif command["cmd"] == "stop":
            break
    stop.set()
    watcher.join()
    threads = threading.active_count()
    fleet.stop()
    _send(out, lock, {"stopped": True, "threads_running": threads, "rss_mb": rss_mb()})
    return 0


def _profile_command(profiles: ThreadProfiles, command: dict[str, Any]) -> dict[str, Any]:
    """`profile`: start the CPU profiles; `profile_write`: write them (see ThreadProfiles)."""
    if command["cmd"] == "profile":
        profiles.arm()
        return {"profiling": True}
    return {"profile_written": profiles.write(Path(command["path"]))}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Worker:
    """One worker process as the bench sees it: what it reported so far."""

    process: subprocess.Popen[str]
    agents: int
    started: int = 0
    connected: int = 0
    held: dict[str, float] = field(default_factory=dict)
    replies: list[dict[str, Any]] = field(default_factory=list)
    threads: int = 0
    fds: int = 0
    reply_ready: threading.Condition = field(default_factory=threading.Condition)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def read(self) -> None:
        """The reader thread: fold the worker's reports into this object."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            with self.reply_ready:
                if "started" in message:
                    self.started = message["started"]
                elif "connected" in message:
                    self.connected = message["connected"]
                elif "held" in message:
                    self.held.update({device: t for device, t in message["held"]})
                elif "threads" in message:
                    self.threads, self.fds = message["threads"], message["fds"]
                else:
                    self.replies.append(message)
                self.reply_ready.notify_all()

    def reply(self, key: str, timeout: float) -> dict[str, Any]:
        """Wait for the next reply carrying `key`."""
        deadline = time.monotonic() + timeout
        with self.reply_ready:
            while True:
                for message in self.replies:
                    if key in message:
                        self.replies.remove(message)
                        return message
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise RuntimeError(
                        f"worker {self.process.pid} sent no {key!r} (exit {self.process.poll()})"
                    )
                self.reply_ready.wait(min(left, 1.0))


# -- the bench: controller, bulletin, timing --------------------------------------------------------------


def write_schedule(path: Path) -> str:
    """One window an hour long, two hours from now (or 03:00 local after 21:00): nothing plays meanwhile."""
    start = (datetime.now(ZONE) + timedelta(hours=2)).replace(second=0, microsecond=0)
    if start.hour >= 23 or start.hour < 2:
        begin, end = "03:00:00", "04:00:00"
    else:
        begin, end = f"{start:%H:%M:%S}", f"{start + timedelta(hours=1):%H:%M:%S}"
    path.write_text(
        f'timezone = "{ZONE.key}"\n\n[[window]]\nname = "bench"\nstart = "{begin}"\nend = "{end}"\n',
        encoding="utf-8",
    )
    return f"{begin[:5]}–{end[:5]} {ZONE.key}"


def make_recording(path: Path) -> float:
    """A tone-and-noise recording long enough to become ~1 MiB at 64 kbit/s; returns its seconds."""
    seconds = round(TARGET_BYTES * 8 / (BITRATE_KBPS * 1000), 1)
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi"),
            *("-i", f"sine=f=330:d={seconds}", "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.05:d={seconds}"),
            *("-filter_complex", "amix=inputs=2,tremolo=f=3:d=0.6", "-ac", "1", "-b:a", "96k", str(path)),
        ],
        check=True,
    )
    return seconds


@dataclass
class Api:
    """A small REST client (stdlib only) with one bearer token per user."""

    base: str
    tokens: dict[str, str] = field(default_factory=dict)

    def call(
        self, path: str, user: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> dict[str, Any]:
        if user not in self.tokens:
            login = json.dumps({"username": user, "password": PASSWORD}).encode()
            self.tokens[user] = self._send("/auth/token", login, "application/json", None)["token"]
        return self._send(path, body, content_type, self.tokens[user])

    def _send(self, path: str, body: bytes | None, content_type: str, token: str | None) -> dict[str, Any]:
        headers = {"content-type": content_type}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{self.base}/api/v1{path}", data=body, headers=headers, method="GET" if body is None else "POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                answer: dict[str, Any] = json.load(response)
                return answer
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{path}: HTTP {exc.code}: {exc.read().decode(errors='replace')}") from exc


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def set_up(controller: Controller, n: int) -> list[dict[str, str]]:
    """Commune, one village speaking Vietnamese, the three users and N devices (services, as the seed)."""
    now = datetime.now(UTC)
    with controller.db.session() as session:
        services.create_commune(session, COMMUNE, "Xã Đo Kiểm", now)
        services.create_village(session, VILLAGE, now, name="Bản Đo", commune_id=COMMUNE, languages=["vi"])
        for role in ("admin", "operator", "approver"):
            services.create_user(session, role, PASSWORD, role, now, commune_id=COMMUNE, actor="seed")
    agents = []
    for start in range(0, n, 250):
        with controller.db.session() as session:
            for number in range(start, min(n, start + 250)):
                device_id = f"bench-{number:05d}"
                made = services.provision_device(
                    session, device_id, now, name=f"Cụm đo {number}", village_id=VILLAGE, actor="seed"
                )
                agents.append({"id": device_id, "password": made.mqtt_password})
        progress(f"provisioned {len(agents)}/{n} devices", done=len(agents) == n)
    return agents


def start_workers(
    controller: Controller,
    agents: list[dict[str, str]],
    root: Path,
    *,
    per_process: int,
    sha: str,
    size: int,
    profile: bool = False,
    verifier: str = "agent",
    switch_interval: float | None = None,
) -> list[Worker]:
    workers = []
    for first in range(0, len(agents), per_process):
        chunk = agents[first : first + per_process]
        with LOG.with_suffix(f".worker-{len(agents)}-{first:05d}.log").open("w") as log:
            process = subprocess.Popen(
                [sys.executable, __file__, "--worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                cwd=ROOT,
            )
        worker = Worker(process, len(chunk))
        threading.Thread(target=worker.read, name=f"reader-{process.pid}", daemon=True).start()
        worker.send(
            {
                "agents": chunk,
                "root": str(root),
                "broker_url": controller.settings.mqtt.public_url or controller.settings.mqtt.url,
                "public_keys": list(controller.keys.public_keys_b64),
                "sha256": sha,
                "bytes": size,
                "profile": profile,
                "verifier": verifier,
                **({} if switch_interval is None else {"switch_interval": switch_interval}),
            }
        )
        workers.append(worker)
    return workers


def arm_profiles(workers: list[Worker]) -> None:
    """Start the workers' CPU profiles (only workers started with `profile=True` have them)."""
    for worker in workers:
        worker.send({"cmd": "profile"})
    for worker in workers:
        worker.reply("profiling", 60)


def write_profiles(workers: list[Worker], directory: Path | None, label: str) -> None:
    """Each worker writes its agents' CPU profile so far to `directory/<label>-worker-<k>.pstats`."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for number, worker in enumerate(workers):
        path = directory / f"{label}-worker-{number}.pstats"
        worker.send({"cmd": "profile_write", "path": str(path.resolve())})
        threads = worker.reply("profile_written", 120)["profile_written"]
        say(f"  profile of worker {number} ({threads} threads, CPU time per thread): {path}")


def count_online(reader: sessionmaker[Session]) -> int:
    with reader() as session:
        return int(
            session.scalar(select(func.count()).select_from(Device).where(Device.online.is_(True))) or 0
        )


def wait_online(reader: sessionmaker[Session], workers: list[Worker], n: int) -> float:
    """Until every agent is connected and the controller has every birth; returns the seconds it took."""
    began = time.monotonic()
    while True:
        started = sum(w.started for w in workers)
        connected = sum(w.connected for w in workers)
        online = count_online(reader)
        elapsed = time.monotonic() - began
        finished = connected == n and online == n
        progress(
            f"agents started {started}/{n}, connected {connected}/{n}, online at the controller {online}/{n}"
            f"  ({elapsed:.0f} s)",
            done=finished,
        )
        if finished:
            return elapsed
        dead = [w.process.pid for w in workers if w.process.poll() is not None]
        if dead or elapsed > TIMEOUT_S:
            raise RuntimeError(f"agents did not all come online (dead workers {dead}, {elapsed:.0f} s)")
        time.sleep(0.5)


def wait_settled(reader: sessionmaker[Session], n: int) -> float:
    """Until every device's heartbeat reported the plan version stored for it (steady state)."""
    began = time.monotonic()
    while True:
        with reader() as session:
            settled = session.scalar(
                select(func.count())
                .select_from(Device)
                .join(Plan, Plan.device_id == Device.id)
                .where(Device.plan_version == Plan.version)
            )
        elapsed = time.monotonic() - began
        progress(f"agents reporting their stored plan {settled}/{n} ({elapsed:.0f} s)", done=settled == n)
        if settled == n:
            return elapsed
        if elapsed > TIMEOUT_S:
            raise RuntimeError(f"only {settled}/{n} agents reported their plan after {elapsed:.0f} s")
        time.sleep(1.0)


def controller_counts(reader: sessionmaker[Session], bulletin_id: int, since: datetime) -> tuple[int, int]:
    """(deliveries of the bulletin in state delivered or played, devices whose asset_ready was ingested)."""
    with reader() as session:
        delivered = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.bulletin_id == bulletin_id, Delivery.state.in_(("delivered", "played")))
        )
        ready = session.scalar(
            select(func.count(func.distinct(DeviceEvent.device_id))).where(
                DeviceEvent.type == "asset_ready", DeviceEvent.received_at >= since
            )
        )
    return int(delivered or 0), int(ready or 0)


def phases(reader: sessionmaker[Session], approved_wall: datetime) -> dict[str, float]:
    """Seconds after the approve call: plans published (controller), plans received (agents' events)."""
    with reader() as session:
        published = [p for p in session.scalars(select(Plan.published_at)) if p is not None]
        received = list(
            session.scalars(
                select(DeviceEvent.at).where(DeviceEvent.type == "received", DeviceEvent.at >= approved_wall)
            )
        )
        ready_in = list(
            session.scalars(
                select(DeviceEvent.received_at).where(
                    DeviceEvent.type == "asset_ready", DeviceEvent.received_at >= approved_wall
                )
            )
        )
    published = [p for p in published if p >= approved_wall]

    def span(values: list[datetime], name: str) -> dict[str, float]:
        if not values:
            return {}
        seconds = [(v - approved_wall).total_seconds() for v in values]
        return {f"{name}_first": min(seconds), f"{name}_last": max(seconds)}

    return {
        **span(published, "plan_published"),
        **span(received, "plan_received"),
        **span(ready_in, "asset_ready_ingested"),
    }


@dataclass
class Bench:
    """One fleet size's controller, agents and readers."""

    n: int
    controller: Controller
    reader: sessionmaker[Session]
    api: Api
    agent_root: Path
    workers: list[Worker] = field(default_factory=list)
    replans: list[tuple[float, float, int]] = field(default_factory=list)
    links: list[EmulatedLink] = field(default_factory=list)  # the web server's proxy first, then MQTT's

    def time_replans(self) -> None:
        """Record each planning run's start, end and plans published (the runtime calls this attribute)."""
        replan = self.controller.dispatcher.replan

        def timed() -> ReplanReport:
            began = time.monotonic()
            report = replan()
            self.replans.append((began, time.monotonic(), len(report.published)))
            return report

        self.controller.dispatcher.replan = timed  # type: ignore[method-assign]

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                with contextlib.suppress(OSError):
                    worker.send({"cmd": "stop"})
        for worker in self.workers:
            try:
                worker.process.wait(60)
            except subprocess.TimeoutExpired:
                worker.process.kill()
        self.controller.stop()
        for link in self.links:
            link.close()
        self.reader.kw["bind"].dispose()
        if self.agent_root.is_relative_to(SHM):
            shutil.rmtree(self.agent_root, ignore_errors=True)


def start_links(link: Link, http_port: int, mqtt_port: int) -> tuple[list[EmulatedLink], dict[str, str]]:
    """The proxies of an emulated link, and the settings that send the agents through them."""
    web = EmulatedLink(http_port, link).start()
    links, public = [web], {"http__public_url": f"http://127.0.0.1:{web.port}"}
    if link.rtt_ms > 0:
        try:
            mqtt = EmulatedLink(mqtt_port, Link(None, link.rtt_ms)).start()
        except RuntimeError:
            web.close()
            raise
        links.append(mqtt)
        public["mqtt__public_url"] = f"mqtt://127.0.0.1:{mqtt.port}"
    return links, public


def open_bench(n: int, args: argparse.Namespace, tmp: Path, link: Link | None = None) -> Bench:
    """A controller for N agents (not started); with `link`, the agents reach it through that link."""
    work = tmp / f"n{n}"
    on_shm = not args.agents_on_disk and SHM.is_dir()
    agent_root = Path(tempfile.mkdtemp(prefix=f"loaxa-dispatch-{n}-", dir=SHM)) if on_shm else work / "agents"
    window = write_schedule(tmp / "windows.toml")
    http_port, mqtt_port = free_port(), free_port()
    links, public = start_links(link, http_port, mqtt_port) if link is not None else ([], {})
    settings = load_settings(
        {},
        data_dir=work / "controller",
        schedule=tmp / "windows.toml",
        http__port=http_port,
        mqtt__url=f"mqtt://127.0.0.1:{mqtt_port}",
        tts__engines=("espeak-ng",),
        **public,
    )
    through = f"; agents through an emulated link: {link.describe()}, {public}" if link is not None else ""
    say(f"== {n} agents (controller data {work}, agent homes {agent_root}, window {window}{through})")
    try:
        controller = Controller(settings)
    except BaseException:
        for proxy in links:
            proxy.close()
        raise
    # The bench reads through its own engine: the controller's sessions all BEGIN IMMEDIATE (the write
    # lock), and polling through them would queue behind, and delay, the planner's writes.
    reader = sessionmaker(create_engine(settings.db_url))
    bench = Bench(
        n,
        controller,
        reader,
        Api(f"http://127.0.0.1:{controller.web.port}"),
        agent_root,
        links=links,
    )
    bench.time_replans()
    return bench


def upload(bench: Bench, recording: Path, seconds: float) -> tuple[int, str, int]:
    """Operator uploads the recording and submits it; (bulletin id, sha256, stored bytes)."""
    began = time.monotonic()
    fields = {
        "title": "Bản tin đo thử",
        "text": "Bản tin ghi âm dùng để đo thời gian phân phối.",
        "language": "vi",
        "targets": json.dumps({"villages": [VILLAGE]}),
    }
    body, content_type = multipart(fields, recording.name, recording.read_bytes())
    bulletin_id = int(bench.api.call("/bulletins", "operator", body, content_type)["id"])
    bench.api.call(f"/bulletins/{bulletin_id}/submit", "operator", b"{}")
    sha = str(bench.api.call(f"/bulletins/{bulletin_id}", "operator")["audio"]["sha256"])
    size = bench.controller.store.size(sha)
    say(
        f"  recording: {recording.stat().st_size / 1e6:.2f} MB upload, {seconds:.0f} s → stored asset "
        f"{size:,} bytes ({size / 2**20:.3f} MiB) {sha[:12]}; upload and encode took "
        f"{time.monotonic() - began:.1f} s"
    )
    return bulletin_id, sha, size


def time_dispatch(bench: Bench, bulletin_id: int) -> dict[str, Any]:
    """Approve, then poll until every agent holds the file and the controller has every asset_ready."""
    n, workers = bench.n, bench.workers
    bench.api.call("/bulletins", "approver")  # logs in now: the password hash check is not part of dispatch
    approved_wall = datetime.now(UTC)
    t0 = time.monotonic()
    bench.api.call(f"/bulletins/{bulletin_id}/approve", "approver", b"{}")
    approve_s = time.monotonic() - t0
    marks: dict[str, float] = {}
    last_print = 0.0
    while True:
        now = time.monotonic()
        held = sum(len(w.held) for w in workers)
        delivered, ready = controller_counts(bench.reader, bulletin_id, approved_wall)
        for name, count in (("delivered", delivered), ("ready", ready)):
            if count >= n:
                marks.setdefault(name, now - t0)
        finished = held >= n and len(marks) == 2
        if finished or now - last_print >= 1.0:
            last_print = now
            progress(
                f"{now - t0:6.1f} s: agents holding the file {held}/{n}; controller: asset_ready "
                f"{ready}/{n}, deliveries delivered {delivered}/{n}",
                done=finished,
            )
        if finished:
            break
        if now - t0 > TIMEOUT_S or any(w.process.poll() is not None for w in workers):
            raise RuntimeError(
                f"dispatch did not finish: {held}/{n} agents hold the file after {now - t0:.0f} s"
            )
        time.sleep(0.25)
    held_times = [t - t0 for w in workers for t in w.held.values()]
    for worker in workers:
        worker.send({"cmd": "verify"})
    dispatch_s = max(held_times)
    return {
        "approve_call_s": approve_s,
        "dispatch_s": dispatch_s,
        "controller_asset_ready_s": marks["ready"],
        "controller_delivered_s": marks["delivered"],
        "agent_p50_s": statistics.median(held_times),
        "agent_p95_s": percentile(held_times, 0.95),
        "verified": sum(w.reply("verified", 120)["verified"] for w in workers),
        "phases": {k: round(v, 3) for k, v in phases(bench.reader, approved_wall).items()},
        "planning_runs": [[round(b - t0, 3), round(e - b, 3), k] for b, e, k in bench.replans if b >= t0],
    }


def time_baseline(bench: Bench, sha: str, when: str) -> dict[str, Any]:
    """N clients (threads in the same worker processes) GET the signed URL at once and check sha256."""
    say(f"  baseline {when}: {bench.n} clients GET the same signed URL at once")
    settings, keys = bench.controller.settings, bench.controller.keys
    expires = datetime.now(UTC) + timedelta(hours=1)
    url = sign_asset_url(settings.asset_base_url, sha, keys.url_secret, expires)
    at = time.monotonic() + 1.0
    for worker in bench.workers:
        worker.send({"cmd": "baseline", "url": url, "at": at})
    results = [r for w in bench.workers for r in w.reply("baseline", TIMEOUT_S)["baseline"]]
    errors = [e for _, e in results if e is not None]
    times = [t - at for t, e in results if e is None]
    progress(f"{len(times)}/{bench.n} clients verified the file in {max(times, default=0):.2f} s", done=True)
    return {
        "baseline_s": max(times) if times else float("nan"),
        "baseline_p50_s": statistics.median(times) if times else float("nan"),
        "baseline_p95_s": percentile(times, 0.95),
        "baseline_errors": len(errors),
        "baseline_error_sample": errors[:3],
    }


def best_baseline(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The faster of the runs before and after the dispatch (the machine is shared: the ratio errs
    against the dispatch path), with both times kept."""
    best = min(before, after, key=lambda r: r["baseline_s"] if r["baseline_errors"] == 0 else float("inf"))
    return best | {"baseline_before_s": before["baseline_s"], "baseline_after_s": after["baseline_s"]}


def link_cpu_s(bench: Bench) -> float:
    """CPU seconds the web server's link proxy used so far (0 without a link)."""
    return bench.links[0].cpu_s() if bench.links else 0.0


def run_one(
    n: int, args: argparse.Namespace, recording: Path, seconds: float, tmp: Path, *, link: Link | None
) -> dict[str, Any]:
    bench = open_bench(n, args, tmp, link)
    try:
        agents = set_up(bench.controller, n)
        bench.controller.start()
        bulletin_id, sha, size = upload(bench, recording, seconds)
        bench.workers = start_workers(
            bench.controller,
            agents,
            bench.agent_root,
            per_process=args.per_process,
            sha=sha,
            size=size,
            profile=args.profile_agents is not None,
            verifier=args.fleet_verifier,
            switch_interval=args.switch_interval,
        )
        online_s = wait_online(bench.reader, bench.workers, n)
        # Steady state: every agent has reported (heartbeat) the plan it holds, so the controller knows it
        # listens on its area topic; until then it would be sent everything on its own topics.
        wait_settled(bench.reader, n)
        time.sleep(2)  # let the start-up planning run and the births settle
        threads = sum(w.threads for w in bench.workers)
        say(
            f"  {len(bench.workers)} worker process(es) with {threads} threads ({threads / n:.1f} per agent, "
            f"the processes' own included); bench process {threading.active_count()} threads"
        )
        cpu = [link_cpu_s(bench)]
        before = time_baseline(bench, sha, "before the dispatch")
        cpu.append(link_cpu_s(bench))
        time.sleep(2)
        if args.profile_agents is not None:
            arm_profiles(bench.workers)
        cpu.append(link_cpu_s(bench))
        result = time_dispatch(bench, bulletin_id)
        cpu.append(link_cpu_s(bench))
        write_profiles(bench.workers, args.profile_agents, f"dispatch-{n}")
        result |= best_baseline(before, time_baseline(bench, sha, "after the dispatch"))
        for worker in bench.workers:
            worker.send({"cmd": "stop"})
        stopped = [w.reply("stopped", 120) for w in bench.workers]
    finally:
        bench.close()
    return result | {
        "agents": n,
        "verifier": args.fleet_verifier,
        "switch_interval_s": args.switch_interval or sys.getswitchinterval(),
        "asset_bytes": size,
        "online_s": online_s,
        "ratio": result["dispatch_s"] / result["baseline_s"],
        "dispatch_mb_s": n * size / 1e6 / result["dispatch_s"],
        "baseline_mb_s": n * size / 1e6 / result["baseline_s"],
        "worker_processes": len(bench.workers),
        "worker_threads": threads,
        "worker_fds_max": max(w.fds for w in bench.workers),
        "worker_rss_mb_max": max(s["rss_mb"] for s in stopped),
        "link": None if link is None else link.describe(),
        "link_kbit": None if link is None else link.kbit,
        "link_rtt_ms": None if link is None else link.rtt_ms,
        "link_one_download_s": None if link is None else link.transfer_s(size),
        "link_cpu_baseline_s": cpu[1] - cpu[0],
        "link_cpu_dispatch_s": cpu[3] - cpu[2],
    }


def _span(phase: dict[str, float], name: str) -> str:
    first, last = phase.get(f"{name}_first", float("nan")), phase.get(f"{name}_last", float("nan"))
    return f"{first:.2f}–{last:.2f} s"


def print_results(results: list[dict[str, Any]]) -> None:
    say("")
    say(
        f"{'agents':>6} {'asset B':>9} {'dispatch':>9} {'baseline':>9} {'ratio':>6} {'agent p50/p95':>14} "
        f"{'client p50/p95':>15} {'disp MB/s':>9} {'base MB/s':>9} {'ctl ready':>9} {'delivered':>9}"
    )
    for r in results:
        say(
            f"{r['agents']:>6} {r['asset_bytes']:>9,} {r['dispatch_s']:>8.2f}s {r['baseline_s']:>8.2f}s "
            f"{r['ratio']:>5.1f}× {r['agent_p50_s']:>6.2f}/{r['agent_p95_s']:<6.2f}s "
            f"{r['baseline_p50_s']:>6.2f}/{r['baseline_p95_s']:<6.2f}s  {r['dispatch_mb_s']:>8.1f} "
            f"{r['baseline_mb_s']:>9.1f} {r['controller_asset_ready_s']:>8.2f}s "
            f"{r['controller_delivered_s']:>8.2f}s"
        )
    say("")
    for r in results:
        p = r["phases"]
        runs = ", ".join(f"at {b:.2f} s for {d:.2f} s ({k} plans)" for b, d, k in r["planning_runs"])
        say(
            f"{r['agents']} agents: approve call {r['approve_call_s']:.2f} s; planning runs {runs or '-'}; "
            f"plans published {_span(p, 'plan_published')}, received {_span(p, 'plan_received')}; "
            f"asset_ready ingested {_span(p, 'asset_ready_ingested')}; files verified again "
            f"{r['verified']}/{r['agents']}; baseline errors {r['baseline_errors']}; "
            f"baseline before/after {r['baseline_before_s']:.2f}/{r['baseline_after_s']:.2f} s; "
            f"{r['worker_processes']} worker process(es), {r['worker_threads']} threads, per worker "
            f"≤ {r['worker_fds_max']} fds and ≤ {r['worker_rss_mb_max']:.0f} MB RSS; "
            f"agents online after {r['online_s']:.0f} s"
        )
        if r["link"] is not None:
            say(
                f"{r['agents']} agents over the emulated link ({r['link']}; one download alone takes "
                f"≥ {r['link_one_download_s']:.2f} s): dispatch {r['dispatch_s']:.2f} s, baseline "
                f"{r['baseline_s']:.2f} s, ratio {r['ratio']:.2f}×; the proxy used "
                f"{r['link_cpu_dispatch_s']:.2f} s of CPU during the dispatch, "
                f"{r['link_cpu_baseline_s']:.2f} s during the baseline before it"
            )


def add_fleet_options(parser: argparse.ArgumentParser) -> None:
    """The simulated agents' options, shared with bench_emergency.py."""
    parser.add_argument(
        "--fleet-verifier",
        choices=FLEET_VERIFIERS,
        default="agent",
        help="the simulated agents' signature check: the agent's own (plain Python) or cryptography's",
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        help="sys.setswitchinterval in the agents' worker processes (Python's default: 0.005 s)",
    )
    parser.add_argument(
        "--profile-agents",
        type=Path,
        help="write each worker's CPU profile (cProfile, CPU time per thread) from the approval to here",
    )


def main() -> int:
    if "--worker" in sys.argv[1:]:
        return worker_main()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", default="12,200,1000", help="comma-separated fleet sizes")
    parser.add_argument("--quick", action="store_true", help="a small run: 12 agents")
    parser.add_argument(
        "--per-process", type=int, default=100, help=f"agents per worker process (≤ {MAX_PER_PROCESS})"
    )
    parser.add_argument("--agents-on-disk", action="store_true", help="agent homes on disk, not /dev/shm")
    parser.add_argument(
        "--link-kbit",
        type=float,
        metavar="K",
        help="download through an emulated link of K kbit/s per connection (default: loopback, no link)",
    )
    parser.add_argument(
        "--link-rtt-ms",
        type=float,
        default=0.0,
        metavar="R",
        help="the emulated link's round-trip time (default 0)",
    )
    add_fleet_options(parser)
    args = parser.parse_args()
    if not 1 <= args.per_process <= MAX_PER_PROCESS:
        parser.error(f"--per-process must be 1–{MAX_PER_PROCESS}: paho's select() fails on fds ≥ 1024")
    if (args.link_kbit is not None and args.link_kbit <= 0) or args.link_rtt_ms < 0:
        parser.error("--link-kbit must be > 0 and --link-rtt-ms ≥ 0")
    link = Link(args.link_kbit, args.link_rtt_ms) if args.link_kbit is not None or args.link_rtt_ms else None
    sizes = [12] if args.quick else [int(part) for part in args.agents.split(",") if part.strip()]
    limit = raise_fd_limit()
    logging.basicConfig(
        filename=LOG, level=logging.INFO, format="%(asctime)s %(threadName)s %(name)s %(message)s"
    )
    say(
        f"dispatch bench: agents {sizes}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"RLIMIT_NOFILE {limit}, Python {sys.version.split()[0]}; agents verify signatures with "
        f"{VERIFIER_NAMES[args.fleet_verifier]}, switch interval "
        f"{args.switch_interval or sys.getswitchinterval()} s in their processes; "
        f"{'loopback, no emulated link' if link is None else 'emulated link: ' + link.describe()}; "
        f"controller log {LOG} (workers' beside it)"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-dispatch-") as tmp_name:
        tmp = Path(tmp_name)
        recording = tmp / "recording.mp3"
        seconds = make_recording(recording)
        for n in sizes:
            results.append(run_one(n, args, recording, seconds, tmp, link=link))
            say(f"  load average now {os.getloadavg()[0]:.1f}")
            print_results(results)
    say(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
