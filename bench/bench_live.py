"""Live benchmark (issue 13, item 3): source-to-agent start latency with N real agents.

Run: .venv/bin/python bench/bench_live.py [--agents 12] [--runs 5]
It runs the real controller (managed mosquitto and Icecast2) over the seeded demo commune, starts N real
`loaxa agent` processes into their file sinks, then for each run: opens a live session over REST, starts
ffmpeg sending a tone to its ingest URL (t0 = just before ffmpeg starts), and waits until every agent
reports the session `started`. The figure per agent is its `started` time minus t0 (one clock: loopback),
which is what "agents start within a few seconds of the first word" means. p50/p99 over runs × agents.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration.conftest

from tests.integration.conftest import Deployment, deployed, wait_for


def started_at(deployment: Deployment, device: str, session: str) -> datetime | None:
    """When `device` reported the live session started (the as-run log), or None yet."""
    _, body = deployment.api.call("GET", f"/plays?device={device}", user="operator")
    for play in body["items"]:
        if play["source"] == {"kind": "live", "session": session} and play["started_at"]:
            return datetime.fromisoformat(play["started_at"].replace("Z", "+00:00"))
    return None


def one_run(deployment: Deployment, devices: list[str]) -> list[float]:
    """One session: seconds from the source's start to each agent's `started`."""
    body = {"title": "Đo độ trễ", "targets": {"clusters": devices}}
    status, opened = deployment.api.call("POST", "/live", body, user="admin")
    assert status == 201, opened
    t0 = datetime.now(UTC)
    sender = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=f=440:d=60",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
         opened["ingest_url"]],
    )  # fmt: skip
    try:
        delays = []
        for device in devices:
            at = wait_for(f"{device} live", lambda d=device: started_at(deployment, d, opened["id"]), 90)  # type: ignore[misc]
            delays.append((at - t0).total_seconds())
    finally:
        deployment.api.call("POST", f"/live/{opened['id']}/end", user="admin")
        sender.kill()
        sender.wait()
    time.sleep(2)  # let the agents report live_stop before the next run
    return delays


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        deployed(Path(tmp), opens_in_s=3600, length_s=60) as deployment,
    ):
        devices = sorted(deployment.passwords)[: args.agents]
        for device in devices:
            deployment.start_agent(device)
        for device in devices:
            wait_for(f"{device} online", lambda d=device: deployment.device(d)["online"], 60)  # type: ignore[misc]
        delays = [d for _ in range(args.runs) for d in one_run(deployment, devices)]
    delays.sort()
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    print(
        f"live start latency, {len(devices)} agents × {args.runs} runs (n={len(delays)}): "
        f"p50 {statistics.median(delays):.2f} s, p99 {p99:.2f} s, max {delays[-1]:.2f} s (target: a few s)"
    )


if __name__ == "__main__":
    main()
