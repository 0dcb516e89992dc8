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
log (one `GET /plays?from=` per poll). Per agent, `started` − t0 is one latency sample (one clock:
loopback). p50/p99 over runs × agents.

CPU per live listener: during the last run, once every agent airs, nothing is polled for `--cpu-s`
seconds and the CPU seconds (user + system) of each part are read from /proc through psutil: the
controller (this process and its children other than Icecast, mosquitto and the agents: the recorder's
ffmpeg), Icecast, the agents (their processes and their ffmpeg decoders; with the fleet runner the fleet
processes). Each is divided by the listeners (the agents; Icecast also serves the recorder) and the
seconds: the share of one core one more listener costs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration.conftest

from controller import services
from controller.services.seed import VILLAGES
from loaxa.fleet import FleetProcesses, simulated_bundle, write_simulated_agent
from tests.integration.conftest import Deployment, deployed, wait_for

FLEET_PER_PROCESS = 50
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
) -> tuple[list[float], dict[str, float]]:
    """One session: seconds from the source's start to each agent's `started`; CPU if asked."""
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
    return delays, cpu


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
        fleet = None
        if runner == "process":
            for device in devices:
                deployment.start_agent(device)
            agent_roots = [p.pid for p in deployment.agents.values()]
        else:
            fleet = start_fleet(deployment, devices, args.fleet_heartbeat_s)
            agent_roots = [p.pid for p in fleet.processes]
        try:
            wait_for("every agent seen", lambda: all_seen(deployment, devices), 300)
            delays: list[float] = []
            missing = 0
            cpu: dict[str, float] = {}
            for run in range(args.runs):
                last = run == args.runs - 1
                run_delays, run_cpu = one_run(deployment, devices, agent_roots, args.cpu_s if last else 0)
                delays += run_delays
                missing += len(devices) - len(run_delays)
                cpu = run_cpu or cpu
                print(
                    f"run {run + 1}: p50 {statistics.median(run_delays):.2f} s, max {max(run_delays):.2f} s"
                )
        finally:
            if fleet is not None:
                fleet.stop()
    load_after = os.getloadavg()
    delays.sort()
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    print(
        f"live start latency, {len(devices)} agents ({runner}) × {args.runs} runs (n={len(delays)}): "
        f"p50 {statistics.median(delays):.2f} s, p99 {p99:.2f} s, max {delays[-1]:.2f} s (target: a few s); "
        f"{missing} agent-runs did not start within {START_WAIT_S} s"
    )
    if cpu:
        listeners = len(devices)
        print(
            f"CPU over {args.cpu_s:.0f} s on air, {listeners} listeners (CPU s; % of one core per listener):"
        )
        for name, seconds in cpu.items():
            print(f"  {name:<10} {seconds:7.2f} s   {100 * seconds / listeners / args.cpu_s:6.3f} %")
        total = sum(cpu.values())
        print(f"  {'all':<10} {total:7.2f} s   {100 * total / listeners / args.cpu_s:6.3f} %")
    print(
        f"load average before {load_before[0]:.1f}/{load_before[1]:.1f}, "
        f"after {load_after[0]:.1f}/{load_after[1]:.1f} (1/5 min); {datetime.now(UTC):%Y-%m-%d %H:%M}Z"
    )


if __name__ == "__main__":
    main()
