"""Playback skew benchmark (issue 13, item 5): how far apart N real agents air the same sound.

Run: .venv/bin/python bench/bench_skew.py [--agents 6] [--items 3] [--stream-s 20] [--station from-start]
It runs the real controller (managed mosquitto and Icecast2) over the seeded demo commune and N real
`loaxa agent` processes into their file sinks, all on one machine (one clock: the figures are the
technique's own skew, without NTP error or ALSA latency; docs/streaming.md says what a Pi adds). Then:

- file items: `--items` bulletins in the test window; per agent and item, the sink's start (plays.jsonl)
  minus the item's planned start, and per item the spread across agents (max − min);
- relay: a relay slot whose station is a paced MP3 server on loopback (noise, so it can be aligned): by
  default a station on the air (each connection gets the last second, then the live edge, as a radio
  station's Icecast sends), or with `--station from-start` one that sends each connection the file from
  its start;
- live: a live session fed by ffmpeg (noise) to its Icecast ingest mount.

For relay and live the figure is acoustic: the sink's WAV is written at the speaker's pace from its
`started_at` (silence while the jitter buffer fills), so sample i airs at started_at + i/RATE. Each agent's
WAV is aligned to the first agent's by cross-correlation; the skew of agent A is when A airs a given moment
of the source minus when the first agent airs it. The spread is max − min over the agents.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration.conftest

from edge_agent.pcm import RATE
from protocol.timefmt import parse_utc
from tests.edge_agent.streams import Mount, stream_server
from tests.integration.conftest import ZONE, Deployment, deployed, wait_for

NOISE = "anoisesrc=c=pink:a=0.4:seed=7"


def sink_lines(deployment: Deployment, device: str) -> list[dict[str, Any]]:
    """What the agent's file sink logged (plays.jsonl), oldest first."""
    path = deployment.root / "agents" / device / "played" / "plays.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def approve(deployment: Deployment, body: dict[str, Any]) -> str:
    """Create, submit and approve a bulletin; its id."""
    api = deployment.api
    status, created = api.call("POST", "/bulletins", body, user="operator")
    assert status == 201, created
    assert api.call("POST", f"/bulletins/{created['id']}/submit", user="operator")[0] == 200
    assert api.call("POST", f"/bulletins/{created['id']}/approve", user="approver")[0] == 200
    return str(created["id"])


def file_items(deployment: Deployment, devices: list[str], count: int) -> tuple[list[float], list[float]]:
    """Bulletins as files: (sink start − planned start per agent and item, spread per item), in seconds."""
    ids = [
        approve(
            deployment,
            {
                "title": f"Đo độ lệch {n}",
                "text": f"Thông báo số {n}: bà con chú ý lịch tiêm phòng.",
                "priority": "normal",
                "targets": {"clusters": devices},
            },
        )
        for n in range(count)
    ]
    errors: list[float] = []
    spreads: list[float] = []
    for bulletin in ids:

        def done(b: str = bulletin) -> dict[str, Any] | None:
            _, body = deployment.api.call("GET", f"/bulletins/{b}", user="operator")
            states = {d["state"] for d in body["deliveries"]}
            return body if states == {"played"} and len(body["deliveries"]) == len(devices) else None

        body = wait_for(f"bulletin {bulletin} played", done, 300)
        planned = {d["device"]: parse_utc(d["planned_start"]) for d in body["deliveries"]}
        item_starts = []
        for device in devices:
            line = next(x for x in sink_lines(deployment, device) if _is(x["item_id"], f"b{bulletin}"))
            started = parse_utc(line["started_at"])
            errors.append((started - planned[device]).total_seconds())
            item_starts.append(started)
        spreads.append((max(item_starts) - min(item_starts)).total_seconds())
    return errors, spreads


def wav_of(deployment: Deployment, device: str, key: str) -> tuple[datetime, np.ndarray]:
    """The sink's WAV for the play of `key`: its start and its samples."""
    line = next(x for x in sink_lines(deployment, device) if _is(x["item_id"], key) and "pcm_rate" in x)
    with wave.open(str(deployment.root / "agents" / device / "played" / line["file"])) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float64)
    return parse_utc(line["started_at"]), samples


def lag(reference: np.ndarray, other: np.ndarray, at_s: float, span_s: float = 3.0) -> float:
    """Where `other`'s excerpt at `at_s` lies in `reference`, minus `at_s` (s; FFT cross-correlation)."""
    start, length = int(at_s * RATE), int(span_s * RATE)
    excerpt = other[start : start + length]
    size = 1 << (len(reference) + length).bit_length()
    corr = np.fft.irfft(np.fft.rfft(reference, size) * np.conj(np.fft.rfft(excerpt, size)), size)
    return (int(np.argmax(corr[: len(reference)])) - start) / RATE


def acoustic_skews(deployment: Deployment, devices: list[str], key: str, at_s: float) -> list[float]:
    """Per agent: when it airs a moment of the source minus when the first agent airs it (seconds)."""
    ref_start, reference = wav_of(deployment, devices[0], key)
    skews = []
    for device in devices:
        start, samples = wav_of(deployment, device, key)
        # sample i of `samples` is sample i + shift of `reference`: the same sound.
        shift = lag(reference, samples, at_s)
        skews.append((start - ref_start).total_seconds() - shift)
    return skews


def relay(
    deployment: Deployment, devices: list[str], seconds: int, tmp: Path, *, on_air: bool
) -> list[float]:
    """A relay slot from a paced noise station: the acoustic skew per agent."""
    mp3 = tmp / "station.mp3"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{NOISE}:d={seconds + 120}",
         "-ac", "1", "-ar", "22050", "-b:a", "32k", str(mp3)],
        check=True,
    )  # fmt: skip
    with stream_server() as server:
        server.mounts["/station"] = Mount(mp3.read_bytes(), on_air=on_air)
        api = deployment.api
        status, station = api.call(
            "POST", "/stations", {"name": "Đài thử", "urls": [server.url("/station")]}, user="admin"
        )
        assert status == 201, station
        start = (datetime.now(UTC) + timedelta(seconds=25)).replace(microsecond=0).astimezone(ZONE)
        slot = approve(
            deployment,
            {"title": "Tiếp sóng đo độ lệch",
             "source": {"kind": "relay", "station": station["id"], "duration_s": seconds},
             "targets": {"clusters": devices},
             "schedule": {"mode": "next_window", "start_time": start.strftime("%H:%M:%S")}},
        )  # fmt: skip

        key = f"b{slot}"
        wait_for("relay slot aired", lambda: all(_has(deployment, d, key) for d in devices) or None, 180)
    return acoustic_skews(deployment, devices, key, at_s=seconds / 2)


def _is(item_id: str, key: str) -> bool:
    """Whether a plan item id is `key` or one of its plays (`b12` matches `b12-…` and `b12.1-…`)."""
    return item_id == key or item_id.startswith((f"{key}-", f"{key}."))


def _has(deployment: Deployment, device: str, key: str) -> bool:
    """Whether the agent's sink logged a finished PCM play of `key`."""
    return any(_is(x["item_id"], key) and "pcm_rate" in x for x in sink_lines(deployment, device))


def live(deployment: Deployment, devices: list[str], seconds: int) -> list[float]:
    """A live session fed by ffmpeg (noise): the acoustic skew per agent."""
    api = deployment.api
    status, opened = api.call(
        "POST", "/live", {"title": "Đo độ lệch", "targets": {"clusters": devices}}, user="admin"
    )
    assert status == 201, opened
    sender = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", f"{NOISE}:d=600",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
         opened["ingest_url"]],
    )  # fmt: skip
    try:
        time.sleep(seconds)
    finally:
        api.call("POST", f"/live/{opened['id']}/end", user="admin")
        sender.kill()
        sender.wait()
    session = f"live-{opened['id']}"
    wait_for("sinks closed", lambda: all(_has(deployment, d, session) for d in devices) or None, 60)
    return acoustic_skews(deployment, devices, session, at_s=seconds / 2)


def load() -> str:
    """The load average now (1, 5 min): the host is shared, so each figure says how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def show(kind: str, values: list[float], spreads: list[float]) -> None:
    """Print p50 and max |value| in ms, and the spread across agents."""
    mags = sorted(abs(v) for v in values)
    print(
        f"{kind}: n={len(values)}, |error| p50 {statistics.median(mags) * 1000:.1f} ms, "
        f"max {mags[-1] * 1000:.1f} ms; spread across agents max {max(spreads) * 1000:.1f} ms "
        f"(p50 {statistics.median(spreads) * 1000:.1f} ms)"
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--stream-s", type=int, default=20)
    parser.add_argument("--station", choices=("on-air", "from-start"), default="on-air")
    args = parser.parse_args()
    loads: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        deployed(Path(tmp), opens_in_s=45, length_s=600) as deployment,
    ):
        devices = sorted(deployment.passwords)[: args.agents]
        for device in devices:
            deployment.start_agent(device)
        for device in devices:
            wait_for(f"{device} online", lambda d=device: deployment.device(d)["online"], 60)  # type: ignore[misc]
        loads["files"] = load()
        errors, spreads = file_items(deployment, devices, args.items)
        loads["files"] += " → " + load()
        loads["relay"] = load()
        relay_skews = relay(deployment, devices, args.stream_s, Path(tmp), on_air=args.station == "on-air")
        loads["relay"] += " → " + load()
        loads["live"] = load()
        live_skews = live(deployment, devices, args.stream_s)
        loads["live"] += " → " + load()
    print(f"{len(devices)} agents, one host (loopback, one clock); relay station {args.station}")
    show(f"file items (sink start − planned_start) [{loads['files']}]", errors, spreads)
    show(
        f"relay (acoustic, vs first agent) [{loads['relay']}]",
        relay_skews,
        [max(relay_skews) - min(relay_skews)],
    )
    show(
        f"live (acoustic, vs first agent) [{loads['live']}]", live_skews, [max(live_skews) - min(live_skews)]
    )
    for kind, values in (("relay", relay_skews), ("live", live_skews)):
        print(f"{kind} per agent (ms): " + ", ".join(f"{v * 1000:+.1f}" for v in values))


if __name__ == "__main__":
    main()
