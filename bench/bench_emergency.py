"""Emergency: from the approver's click to sound started on every agent, the code before a change beside it.

For each N (default 12, 200 and 1,000) one real controller (managed mosquitto, SQLite in a temp dir,
waitress) gets N provisioned devices in one village and N real edge agents (`loaxa.fleet.Fleet` in worker
processes of at most 100, as bench_dispatch.py runs them: each agent its own MQTT connection, credentials,
state database and cache, playing into a file sink). An operator uploads a short recording (`--seconds`,
default 10 s: ~80 KB at the controller's 64 kbit/s) as an emergency and submits it. Once every agent is
online and has reported (heartbeat) the plan version the controller stored for it, the clock starts at the
approver's `POST /bulletins/{id}/approve` and stops when the controller has ingested a `started` event
from every agent; each agent's time is its own `started` event's `at` (the agents run on this machine's
clock) minus the approve call's start. Printed: p50, p95 and max, the agents' `received` (play_now
accepted) and `asset_ready` times, the planning runs, and the CPU seconds the controller, the broker and
the simulated agents used meanwhile: what bounds the figure on a machine that runs all three.

`--before REV` runs the same measurement, in the same run and right before, on the code of git revision
REV (unpacked with `git archive` into a temporary directory) or of a directory holding such a tree;
LOAXA_BENCH_TREE points the controller and the workers at it. Both are printed side by side with their
ratio.

    .venv/bin/python bench/bench_emergency.py [--agents 12,200,1000] [--before REV] [--seconds 10]
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_dispatch as dispatch
import psutil
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import DeviceEvent

TIMEOUT_S = 600.0
GOAL_S = 5.0  # issue 18: 1,000 agents, the last one started within 5 s of the approval
say = dispatch.say


def make_recording(path: Path, seconds: float) -> None:
    """A tone-and-noise recording of `seconds` (the operator's emergency message)."""
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi"),
            *("-i", f"sine=f=660:d={seconds}", "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.05:d={seconds}"),
            *("-filter_complex", "amix=inputs=2", "-ac", "1", "-b:a", "96k", str(path)),
        ],
        check=True,
    )


def upload(bench: dispatch.Bench, recording: Path) -> tuple[int, str, int]:
    """Operator uploads the emergency recording (played once) and submits it; (id, sha256, bytes)."""
    fields = {
        "title": "Khẩn cấp đo thử",
        "text": "Bản tin khẩn cấp ghi âm dùng để đo thời gian phát.",
        "language": "vi",
        "priority": "emergency",
        "targets": json.dumps({"villages": [dispatch.VILLAGE]}),
        "schedule": json.dumps({"emergency_repeat": 1, "emergency_gap_s": 0}),
    }
    body, content_type = dispatch.multipart(fields, recording.name, recording.read_bytes())
    bulletin_id = int(bench.api.call("/bulletins", "operator", body, content_type)["id"])
    bench.api.call(f"/bulletins/{bulletin_id}/submit", "operator", b"{}")
    sha = str(bench.api.call(f"/bulletins/{bulletin_id}", "operator")["audio"]["sha256"])
    return bulletin_id, sha, bench.controller.store.size(sha)


def first_events(reader: sessionmaker[Session], kind: str, bulletin_id: int | None) -> dict[str, datetime]:
    """Each device's first event of `kind` (for the bulletin, or any when None) since the bench started."""
    query = select(DeviceEvent.device_id, func.min(DeviceEvent.at)).where(DeviceEvent.type == kind)
    if bulletin_id is not None:
        query = query.where(DeviceEvent.bulletin_id == bulletin_id)
    with reader() as session:
        return {
            device: at.replace(tzinfo=UTC)
            for device, at in session.execute(query.group_by(DeviceEvent.device_id))
        }


class CpuMeter:
    """CPU seconds of this process (the controller), the broker and the worker processes (the agents)."""

    def __init__(self, workers: list[dispatch.Worker]) -> None:
        me = psutil.Process()
        self._parts = {
            "controller": [me],
            "broker": [c for c in me.children(recursive=True) if c.name().startswith("mosquitto")],
            "agents": [psutil.Process(w.process.pid) for w in workers],
        }
        self._start = self._read()

    def _read(self) -> dict[str, float]:
        totals = {}
        for name, processes in self._parts.items():
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
            totals[name] = total
        return totals

    def used(self) -> dict[str, float]:
        end = self._read()
        return {name: end[name] - self._start[name] for name in end}


def time_emergency(bench: dispatch.Bench, bulletin_id: int, sha: str) -> dict[str, Any]:
    """Approve, then poll until the controller has every agent's `started`; per-agent times from `at`."""
    n = bench.n
    bench.api.call("/bulletins", "approver")  # logs in now: the password hash check is not timed
    meter = CpuMeter(bench.workers)
    approved_wall = datetime.now(UTC)
    t0 = time.monotonic()
    bench.api.call(f"/bulletins/{bulletin_id}/approve", "approver", b"{}")
    approve_s = time.monotonic() - t0
    last_print = 0.0
    while True:
        started = first_events(bench.reader, "started", bulletin_id)
        now = time.monotonic()
        finished = len(started) >= n
        if finished or now - last_print >= 1.0:
            last_print = now
            dispatch.progress(f"{now - t0:6.1f} s: started {len(started)}/{n}", done=finished)
        if finished:
            break
        if now - t0 > TIMEOUT_S or any(w.process.poll() is not None for w in bench.workers):
            raise RuntimeError(f"only {len(started)}/{n} agents started after {now - t0:.0f} s")
        time.sleep(0.1)
    ingested_s = time.monotonic() - t0
    cpu = meter.used()
    received = first_events(bench.reader, "received", bulletin_id)
    ready = {d: t for d, t in first_events(bench.reader, "asset_ready", None).items() if t >= approved_wall}

    def seconds(events: dict[str, datetime]) -> list[float]:
        return sorted((at - approved_wall).total_seconds() for at in events.values())

    times = seconds(started)
    return {
        "agents": n,
        "approve_call_s": approve_s,
        "started_p50_s": statistics.median(times),
        "started_p95_s": dispatch.percentile(times, 0.95),
        "started_max_s": times[-1],
        "started_first_s": times[0],
        "received_p50_s": statistics.median(seconds(received)) if received else float("nan"),
        "received_max_s": max(seconds(received), default=float("nan")),
        "asset_ready_max_s": max(seconds(ready), default=float("nan")),
        "all_ingested_s": ingested_s,
        "cpu_s": cpu,
        "planning_runs": [[round(b - t0, 3), round(e - b, 3), k] for b, e, k in bench.replans if b >= t0],
        "sha256": sha,
    }


def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fleet size on the code of this process's tree (a child of the bench)."""
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-emergency-") as tmp_name:
        tmp = Path(tmp_name)
        recording = tmp / "emergency.mp3"
        make_recording(recording, args.seconds)
        bench = dispatch.open_bench(n, args, tmp)
        try:
            agents = dispatch.set_up(bench.controller, n)
            bench.controller.start()
            bulletin_id, sha, size = upload(bench, recording)
            say(f"  emergency recording: {size:,} bytes stored ({sha[:12]})")
            bench.workers = dispatch.start_workers(
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
            online_s = dispatch.wait_online(bench.reader, bench.workers, n)
            settled_s = dispatch.wait_settled(bench.reader, n)
            time.sleep(2)
            if args.profile_agents is not None:
                dispatch.arm_profiles(bench.workers)
            result = time_emergency(bench, bulletin_id, sha)
            dispatch.write_profiles(bench.workers, args.profile_agents, f"emergency-{n}")
            result |= {
                "asset_bytes": size,
                "online_s": online_s,
                "settled_s": settled_s,
                "verifier": args.fleet_verifier,
                "switch_interval_s": args.switch_interval or sys.getswitchinterval(),
            }
            for worker in bench.workers:
                worker.send({"cmd": "stop"})
            for worker in bench.workers:
                worker.reply("stopped", 120)
        finally:
            bench.close()
    return result


def child(n: int, tree: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in a child process on `tree` (None: this checkout); its last line is the result."""
    env = dict(os.environ)
    if tree is not None:
        env["LOAXA_BENCH_TREE"] = str(tree)
    command = [
        sys.executable, __file__, "--one", str(n), "--seconds", str(args.seconds),
        "--per-process", str(args.per_process), *(["--agents-on-disk"] if args.agents_on_disk else []),
        "--fleet-verifier", args.fleet_verifier,
        *([] if args.switch_interval is None else ["--switch-interval", str(args.switch_interval)]),
        *([] if args.profile_agents is None else ["--profile-agents", str(args.profile_agents.resolve())]),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        if line.startswith("RESULT "):
            last = line.removeprefix("RESULT ")
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or not last:
        raise RuntimeError(
            f"the {n}-agent run on {tree or 'this checkout'} failed (exit {process.returncode})"
        )
    result: dict[str, Any] = json.loads(last)
    say(f"  result on {tree or 'this checkout'}: {json.dumps(result)}")  # kept if a later run fails
    return result


def unpack(revision: str, into: Path) -> Path:
    """The tree of a git revision of this repository, unpacked into `into` (or `revision` if a directory)."""
    if Path(revision).is_dir():
        return Path(revision).resolve()
    archive = subprocess.run(
        ["git", "-C", str(dispatch.ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _row(label: str, r: dict[str, Any]) -> str:
    cpu = r["cpu_s"]
    return (
        f"{r['agents']:>6} {label:<8} {r['started_p50_s']:>7.2f} {r['started_p95_s']:>7.2f} "
        f"{r['started_max_s']:>7.2f} {r['received_max_s']:>8.2f} {r['asset_ready_max_s']:>8.2f} "
        f"{r['approve_call_s']:>7.2f}  "
        f"{cpu['controller']:>5.1f} {cpu['broker']:>5.1f} {cpu['agents']:>6.1f}"
    )


def print_results(rows: list[tuple[dict[str, Any] | None, dict[str, Any]]], before: str | None) -> None:
    say("")
    say("seconds after the approve call; CPU seconds used from the call until every `started` was ingested")
    say(
        f"{'agents':>6} {'code':<8} {'p50':>7} {'p95':>7} {'max':>7} {'received':>8} {'ready':>8} "
        f"{'approve':>7}  {'ctl':>5} {'mqtt':>5} {'agents':>6}"
    )
    for old, new in rows:
        if old is not None:
            say(_row(before or "before", old))
        say(_row("this", new))
        verdict = "met" if new["started_max_s"] <= GOAL_S else "not met"
        ratio = (
            ""
            if old is None
            else f"; max {old['started_max_s'] / new['started_max_s']:.1f}× faster than before"
        )
        runs = ", ".join(f"at {b:.2f} s for {d:.2f} s ({k} plans)" for b, d, k in new["planning_runs"])
        say(
            f"{'':>6} goal max ≤ {GOAL_S:.0f} s at 1,000 agents: {verdict} at {new['agents']}{ratio}; "
            f"planning runs {runs or '-'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", default="12,200,1000", help="comma-separated fleet sizes")
    parser.add_argument("--before", help="also time the code of this git revision, right before")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the emergency recording")
    parser.add_argument("--per-process", type=int, default=100, help="agents per worker process")
    parser.add_argument("--agents-on-disk", action="store_true", help="agent homes on disk, not /dev/shm")
    dispatch.add_fleet_options(parser)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size, result as JSON
    args = parser.parse_args()
    limit = dispatch.raise_fd_limit()
    if args.one is not None:
        import logging

        logging.basicConfig(
            filename=dispatch.LOG,
            level=logging.INFO,
            format="%(asctime)s %(threadName)s %(name)s %(message)s",
        )
        say(f"== {args.one} agents on {dispatch.ROOT}")
        print("RESULT " + json.dumps(run_one(args.one, args)), flush=True)
        return 0
    sizes = [int(part) for part in args.agents.split(",") if part.strip()]
    say(
        f"emergency bench: agents {sizes}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"RLIMIT_NOFILE {limit}, Python {sys.version.split()[0]}, recording {args.seconds:.0f} s; "
        f"agents verify signatures with {dispatch.VERIFIER_NAMES[args.fleet_verifier]}, switch interval "
        f"{args.switch_interval or sys.getswitchinterval()} s in their processes; "
        f"logs {dispatch.LOG}*"
    )
    rows: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-before-") as tmp_name:
        tree = None if args.before is None else unpack(args.before, Path(tmp_name) / "tree")
        for n in sizes:
            old = None if tree is None else child(n, tree, args)
            say(f"  load average now {os.getloadavg()[0]:.1f}")
            new = child(n, None, args)
            say(f"  load average now {os.getloadavg()[0]:.1f}")
            rows.append((old, new))
            print_results(rows, args.before)
    say(json.dumps([{"before": old, "this": new} for old, new in rows]))
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
