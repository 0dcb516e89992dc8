"""Live benchmark (issue 13, item 3): source-to-agent start latency and CPU per live listener, N agents.

Run: .venv/bin/python bench/bench_live.py [--agents 12] [--runs 3] [--cpu-s 20] [--runner process|fleet]
It runs the real controller (managed mosquitto and Icecast2, in this process) over the seeded demo
commune (12 clusters; more are provisioned in its villages for --agents above 12) and N agents into
their file sinks: real `loaxa agent` processes (`--runner process`, the default up to 12 agents), or
`loaxa.fleet` processes of 50 agents each (`--runner fleet`, the default above 12: the same Agent class on
threads, as bench_dispatch.py runs many agents; each agent still starts its own ffmpeg decoder per stream;
their heartbeat every `--fleet-heartbeat-s`, 10 s by default: 200 agents at the tests' 1 s kept SQLite
locked past its 5 s busy wait on this shared 2-core host, and a production heartbeat is 30 s).

Per run: a live session is opened over REST, ffmpeg starts sending a tone to its ingest URL (t0 = just
before ffmpeg starts), and the bench waits until every agent reports the session `started` in the as-run
log (one `GET /plays?from=` per poll; an agent not started within 60 s is counted, not waited for). Per
agent, `started` − t0 is one latency sample (one clock: loopback). The agents report `started` when
their air begins, silence included while the jitter buffer fills; so once the session has ended the
bench also reads each agent's WAV and takes the first sample of the tone: `first sound` − t0 is when a
listener would hear the first word. p50/p99 over runs × agents.

CPU per live listener: during the last run, once every agent airs, nothing is polled for `--cpu-s`
seconds and the CPU seconds (user + system) of each part are read from /proc through psutil: the
controller (this process and its children other than Icecast, mosquitto and the agents: the recorder's
ffmpeg), Icecast, the agents (their processes and their ffmpeg decoders; with the fleet runner the fleet
processes). Each is divided by the listeners (the agents; Icecast also serves the recorder) and the
seconds: the share of one core one more listener costs.
"""

import argparse
import array
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration.conftest

from controller import services
from controller.services.seed import VILLAGES
from loaxa.fleet import FleetProcesses, simulated_bundle, write_simulated_agent
from tests.integration.conftest import Deployment, deployed, wait_for

FLEET_PER_PROCESS = 50
SOUND_LEVEL = 400  # int16: a tenth of the sender's tone after the agents' volume and loudness
START_WAIT_S = 60  # an agent not started by then is counted as missing, not waited for


def provision_more(deployment: Deployment, total: int) -> None:
    """Provision clusters `tule-x001`… in the demo villages until the commune has `total`."""
    now = datetime.now(UTC)
    missing = total - len(deployment.passwords)
    with deployment.controller.db.session() as session:
        for number in range(1, missing + 1):
            device_id = f"tule-x{number:03d}"
            village = VILLAGES[number % len(VILLAGES)][0]
            made = services.provision_device(
                session, device_id, now, name=f"Cụm đo {number}", village_id=village, actor="bench"
            )
            deployment.passwords[device_id] = made.mqtt_password


def start_fleet(deployment: Deployment, devices: list[str], heartbeat_s: float) -> FleetProcesses:
    """The agents as loaxa.fleet processes of FLEET_PER_PROCESS agents, with their own file sinks."""
    controller = deployment.controller
    paths = []
    for device in devices:
        bundle = simulated_bundle(
            device, deployment.passwords[device], controller.settings.mqtt.url,
            (controller.keys.public_key_b64,), heartbeat_s,
        )  # fmt: skip
        write_simulated_agent(deployment.root / "fleet", bundle)
        paths.append(deployment.root / "fleet" / device / "agent.toml")
    fleet = FleetProcesses(paths, per_process=FLEET_PER_PROCESS)
    fleet.start()
    return fleet


def started(deployment: Deployment, session: str, since: datetime) -> dict[str, datetime]:
    """Devices that reported the live session started, with when (one as-run request for all)."""
    since_text = since.isoformat().replace("+00:00", "Z")
    status, body = deployment.api.call("GET", f"/plays?from={since_text}", user="admin")
    if status != 200:  # a controller too busy to answer now: ask again at the next poll
        return {}
    return {
        play["device"]: datetime.fromisoformat(play["started_at"].replace("Z", "+00:00"))
        for play in body["items"]
        if play["source"] == {"kind": "live", "session": session} and play["started_at"]
    }


def gap_reasons(deployment: Deployment, session: str, since: datetime) -> Counter[str]:
    """Why the agents' streams did not air while joining the session: the as-run gaps, by reason."""
    since_text = since.isoformat().replace("+00:00", "Z")
    status, body = deployment.api.call("GET", f"/plays?from={since_text}", user="admin")
    if status != 200:
        return Counter()
    return Counter(
        str(gap["reason"])
        for play in body["items"]
        if play["source"] == {"kind": "live", "session": session}
        for gap in play["gaps"]
    )


def first_sound(home: Path, session: str) -> datetime | None:
    """When the agent's sink first aired the tone of `session` (None: it aired none, or has no entry yet).

    The file sink writes its WAV at the speaker's pace from `started_at` (silence while the jitter buffer
    fills), so sample i airs at `started_at + i / rate`: the first sample above a tenth of the tone's
    level is the first sound a listener hears.
    """
    log = home / "played" / "plays.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for entry in entries:
        if entry["item_id"] != f"live-{session}":
            continue
        with wave.open(str(home / "played" / entry["file"]), "rb") as wav:
            samples = array.array("h", wav.readframes(wav.getnframes()))
            rate = wav.getframerate()
        loud = next((i for i, value in enumerate(samples) if abs(value) > SOUND_LEVEL), None)
        if loud is None:
            return None
        started_at = datetime.fromisoformat(entry["started_at"].replace("Z", "+00:00"))
        return started_at + timedelta(seconds=loud / rate)
    return None


def all_seen(deployment: Deployment, devices: list[str]) -> bool:
    """Whether every device has reported to the controller at least once (one devices request)."""
    status, body = deployment.api.call("GET", "/devices", user="admin")
    return status == 200 and all(d["last_seen"] for d in body["items"] if d["id"] in devices)


def cpu_s(processes: Iterable[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds so far of each process still alive, by pid."""
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def parts(agent_roots: list[int], sender: int) -> dict[str, list[psutil.Process]]:
    """This process's tree split into controller, Icecast, broker and agents (the sender left out)."""
    me = psutil.Process()
    groups: dict[str, list[psutil.Process]] = {"controller": [me], "icecast": [], "broker": [], "agents": []}
    for child in me.children():
        tree = [child, *child.children(recursive=True)]
        if child.name() == "icecast2":
            groups["icecast"] += tree
        elif child.name() == "mosquitto":
            groups["broker"] += tree
        elif child.pid in agent_roots:
            groups["agents"] += tree
        elif child.pid != sender:
            groups["controller"] += tree
    return groups


def measure_cpu(agent_roots: list[int], sender: int, seconds: float) -> dict[str, float]:
    """CPU seconds per part over `seconds` of airing, nothing else asked of the controller meanwhile."""
    groups = parts(agent_roots, sender)
    before = {name: cpu_s(group) for name, group in groups.items()}
    time.sleep(seconds)
    after = {name: cpu_s(group) for name, group in groups.items()}
    return {
        name: sum(after[name][pid] - before[name][pid] for pid in after[name] if pid in before[name])
        for name in groups
    }


def one_run(
    deployment: Deployment, devices: list[str], agent_roots: list[int], cpu_window: float
) -> tuple[str, datetime, list[float], dict[str, float]]:
    """One session: its id, t0, seconds from t0 to each agent's `started`; CPU if asked."""
    body = {"title": "Đo độ trễ", "targets": {"clusters": devices}}
    status, opened = deployment.api.call("POST", "/live", body, user="admin")
    assert status == 201, opened
    t0 = datetime.now(UTC)
    sender = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=f=440:d=600",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
         opened["ingest_url"]],
    )  # fmt: skip
    cpu: dict[str, float] = {}
    try:
        deadline = time.monotonic() + START_WAIT_S
        seen = started(deployment, opened["id"], t0)
        while len(seen) < len(devices) and time.monotonic() < deadline:
            time.sleep(0.5)
            seen = started(deployment, opened["id"], t0)
        delays = [(at - t0).total_seconds() for at in seen.values()]
        if len(seen) < len(devices):
            print(
                f"  {len(devices) - len(seen)} of {len(devices)} agents did not start within {START_WAIT_S} s"
            )
        if cpu_window:
            time.sleep(3)  # past the start: every decoder running, buffers filled
            cpu = measure_cpu(agent_roots, sender.pid, cpu_window)
    finally:
        deployment.api.call("POST", f"/live/{opened['id']}/end", user="admin")
        sender.kill()
        sender.wait()
    return opened["id"], t0, delays, cpu


def heard(homes: list[Path], session: str, t0: datetime) -> list[float]:
    """Seconds from t0 to the first sound in each agent's sink (agents that aired none left out)."""
    sounds = [first_sound(home, session) for home in homes]
    return [(at - t0).total_seconds() for at in sounds if at is not None]


def percentiles(values: list[float]) -> str:
    """p50, p99 and max of `values`, in seconds."""
    ordered = sorted(values)
    if not ordered:
        return "none"
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.2f} s, p99 {p99:.2f} s, max {ordered[-1]:.2f} s"


def start_agents(
    deployment: Deployment, devices: list[str], runner: str, heartbeat_s: float
) -> tuple[FleetProcesses | None, list[int], list[Path]]:
    """Start the agents; returns the fleet (if any), the agents' root pids and their home directories."""
    if runner == "process":
        for device in devices:
            deployment.start_agent(device)
        roots = [p.pid for p in deployment.agents.values()]
        return None, roots, [deployment.root / "agents" / device for device in devices]
    fleet = start_fleet(deployment, devices, heartbeat_s)
    roots = [p.pid for p in fleet.processes]
    return fleet, roots, [deployment.root / "fleet" / device for device in devices]


def print_cpu(cpu: dict[str, float], listeners: int, seconds: float) -> None:
    """CPU seconds per part, and per listener as a share of one core."""
    print(f"CPU over {seconds:.0f} s on air, {listeners} listeners (CPU s; % of one core per listener):")
    for name, used in [*cpu.items(), ("all", sum(cpu.values()))]:
        print(f"  {name:<10} {used:7.2f} s   {100 * used / listeners / seconds:6.3f} %")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--fleet-heartbeat-s", type=float, default=10.0,
        help="the fleet agents' heartbeat interval (process agents: the tests' 1 s)",
    )  # fmt: skip
    parser.add_argument("--pause-s", type=float, default=10.0, help="pause between runs")
    parser.add_argument("--cpu-s", type=float, default=20.0, help="CPU window in the last run (0: none)")
    parser.add_argument("--runner", choices=("process", "fleet"), default=None)
    args = parser.parse_args()
    runner = args.runner or ("process" if args.agents <= 12 else "fleet")
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory() as tmp,
        deployed(Path(tmp), opens_in_s=3600, length_s=60) as deployment,
    ):
        if args.agents > len(deployment.passwords):
            provision_more(deployment, args.agents)
        devices = sorted(deployment.passwords)[: args.agents]
        fleet, agent_roots, homes = start_agents(deployment, devices, runner, args.fleet_heartbeat_s)
        try:
            wait_for("every agent seen", lambda: all_seen(deployment, devices), 300)
            delays: list[float] = []
            sounds: list[float] = []
            missing = 0
            cpu: dict[str, float] = {}
            for run in range(args.runs):
                last = run == args.runs - 1
                session, t0, run_delays, run_cpu = one_run(
                    deployment, devices, agent_roots, args.cpu_s if last else 0
                )
                time.sleep(args.pause_s)  # the agents report live_stop and close their sinks
                run_sounds = heard(homes, session, t0)
                delays += run_delays
                sounds += run_sounds
                missing += len(devices) - len(run_delays)
                cpu = run_cpu or cpu
                silent = len(devices) - len(run_sounds)
                print(f"run {run + 1}: `started` {percentiles(run_delays)}", flush=True)
                print(f"  first sound {percentiles(run_sounds)} ({silent} agents aired none)", flush=True)
                gaps = gap_reasons(deployment, session, t0)
                print(f"  stream gaps in the as-run log, by reason: {dict(gaps) or 'none'}", flush=True)
        finally:
            if fleet is not None:
                fleet.stop()
    load_after = os.getloadavg()
    print(
        f"live start, {len(devices)} agents ({runner}) × {args.runs} runs: `started` in the as-run log "
        f"(n={len(delays)}) {percentiles(delays)}; first sound in the sinks (n={len(sounds)}) "
        f"{percentiles(sounds)}; {missing} agent-runs did not start within {START_WAIT_S} s"
    )
    if cpu:
        print_cpu(cpu, len(devices), args.cpu_s)
    print(
        f"load average before {load_before[0]:.1f}/{load_before[1]:.1f}, "
        f"after {load_after[0]:.1f}/{load_after[1]:.1f} (1/5 min); {datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )


if __name__ == "__main__":
    main()
