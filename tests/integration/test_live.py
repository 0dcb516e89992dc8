"""Live sessions end to end (issue 13, item 3): the real controller with its managed Icecast and mosquitto,
two real agents into their file sinks, ffmpeg as the studio's source.

Going live over REST gives an ingest URL; ffmpeg sends a 440 Hz tone to it; the controller sees the mount
with audio and sends signed `live_start` to both agents, which air the tone; ending sends `live_stop`; the
recording is archived and replays; a second session while one is on air is refused (409, naming who), an
operator without `live` gets 403; a source that is killed ends the session with `source_gone`.
"""

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tests.edge_agent.streams import aired
from tests.edge_agent.support import plays
from tests.integration.conftest import DEMO_PASSWORD, Deployment, deployed, wait_for

CLUSTERS = ["tule-c01", "tule-c02"]


@contextmanager
def source(
    ingest_url: str, seconds: int = 120, sound: str = "0.5*sin(2*PI*440*t)"
) -> Iterator[subprocess.Popen[bytes]]:
    """ffmpeg sending `sound` (a 440 Hz tone) to a live session's mount in real time, as `loaxa live` does."""
    process = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
         "-i", f"aevalsrc='{sound}':s=44100:d={seconds}",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3",
         ingest_url],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def session(deployment: Deployment, session_id: str) -> dict[str, Any]:
    status, body = deployment.api.call("GET", f"/live/{session_id}", user="operator")
    assert status == 200, body
    return body


def live_plays(deployment: Deployment, device: str, session_id: str) -> list[dict[str, Any]]:
    _, body = deployment.api.call("GET", f"/plays?device={device}", user="operator")
    return [p for p in body["items"] if p["source"] == {"kind": "live", "session": session_id}]


def finished(deployment: Deployment, device: str, session_id: str) -> list[dict[str, Any]]:
    return [p for p in live_plays(deployment, device, session_id) if p["finished_at"]]


def ended_session(deployment: Deployment, session_id: str) -> dict[str, Any] | None:
    body = session(deployment, session_id)
    return body if body["state"] == "ended" else None


def online(deployment: Deployment, device: str) -> bool:
    return bool(deployment.device(device)["online"])


def sink_entries(homes: dict[str, Path], session_id: str) -> dict[str, dict[str, Any]]:
    found = {}
    for device, home in homes.items():
        for entry in plays(home / "played"):
            if entry["item_id"] == f"live-{session_id}":
                found[device] = entry
    return found


def both_sinks(homes: dict[str, Path], session_id: str) -> dict[str, dict[str, Any]] | None:
    entries = sink_entries(homes, session_id)
    return entries if len(entries) == len(homes) else None


def test_live_from_ingest_to_two_agents_then_end_archive_and_refusals(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=600, length_s=60) as deployment:
        api = deployment.api
        homes = {device: deployment.start_agent(device) for device in CLUSTERS}
        for device in CLUSTERS:
            wait_for(f"{device} online", partial(online, deployment, device), timeout=30)
        body = {"title": "Họp dân khẩn", "targets": {"clusters": CLUSTERS}}
        status, refused = api.call("POST", "/live", body, user="operator")
        assert status == 403, refused
        status, opened = api.call("POST", "/live", body, user="approver")
        assert status == 201, opened
        assert opened["ingest_url"].startswith("icecast://source:")
        assert opened["state"] == "waiting" and opened["devices"] == CLUSTERS
        session_id = opened["id"]

        status, busy = api.call("POST", "/live", {"title": "Thử", "targets": {}}, user="admin")
        assert status == 409, busy
        assert busy["error"]["code"] == "live_busy"
        assert "approver đang phát trực tiếp «Họp dân khẩn» từ" in busy["error"]["message"]

        with source(opened["ingest_url"]):
            wait_for("on air", lambda: session(deployment, session_id)["state"] == "on_air", timeout=30)
            for device in CLUSTERS:
                wait_for(
                    f"{device} airs live", partial(live_plays, deployment, device, session_id), timeout=30
                )
            time.sleep(4)  # let the agents air a few seconds of tone
            status, ended = api.call("POST", f"/live/{session_id}/end", user="approver")
            assert status == 200, ended
        assert (ended["state"], ended["end_reason"]) == ("ended", "ended")

        entries = wait_for("both sinks", lambda: both_sinks(homes, session_id), timeout=30)
        for device, entry in entries.items():
            heard = aired(homes[device] / "played" / entry["file"])
            assert heard.count(440) >= 4, (device, heard)
        for device in CLUSTERS:
            [play] = wait_for(
                f"{device} finished", partial(finished, deployment, device, session_id), timeout=30
            )
            assert play["session"] == session_id
        assert ended["recording_url"] is not None
        with urllib.request.urlopen(ended["recording_url"], timeout=10) as response:
            assert response.headers["content-type"] == "audio/mpeg"
            assert len(response.read()) > 10_000

        # A killed source ends the next session on every agent, with its reason.
        status, second = api.call("POST", "/live", {"title": "Lần hai", "targets": {}}, user="admin")
        assert status == 201, second
        with source(second["ingest_url"]) as sender:
            wait_for("on air", lambda: session(deployment, second["id"])["state"] == "on_air", timeout=30)
            for device in CLUSTERS:
                wait_for(
                    f"{device} airs live", partial(live_plays, deployment, device, second["id"]), timeout=30
                )
            sender.kill()
        gone = wait_for("ended", partial(ended_session, deployment, second["id"]), timeout=30)
        assert gone["end_reason"] == "source_gone"
        wait_for("both sinks", lambda: both_sinks(homes, second["id"]), timeout=30)

        # A source that falls silent for more than 10 s ends the session too.
        status, third = api.call("POST", "/live", {"title": "Im lặng", "targets": {}}, user="admin")
        assert status == 201, third
        with source(third["ingest_url"], sound="if(lt(t,2),0.5*sin(2*PI*440*t),0)"):
            wait_for("on air", lambda: session(deployment, third["id"])["state"] == "on_air", timeout=30)
            quiet = wait_for("ended", partial(ended_session, deployment, third["id"]), timeout=40)
        assert quiet["end_reason"] == "silent"
        wait_for("both sinks", lambda: both_sinks(homes, third["id"]), timeout=30)


def test_loaxa_live_sends_a_file_to_the_agents_and_ends_the_session_when_it_ends(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=8", "-ac", "1", str(tone)],
        check=True,
    )
    with deployed(tmp_path, opens_in_s=600, length_s=60) as deployment:
        home = deployment.start_agent("tule-c01")
        wait_for("online", partial(online, deployment, "tule-c01"), timeout=30)
        command = [sys.executable, "-m", "loaxa.cli", "live", "--server", deployment.api.base,
                   "--user", "approver", "--title", "Bản tin từ phòng máy", "--clusters", "tule-c01",
                   "--progress-s", "0.5"]  # fmt: skip
        env = {**os.environ, "LOAXA_PASSWORD": DEMO_PASSWORD}
        missing = subprocess.run([*command, "--input", str(tmp_path / "absent.wav")], env=env,
                                 capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert missing.returncode != 0
        assert "loaxa: không tìm thấy tệp hoặc thiết bị ALSA" in missing.stderr
        run = subprocess.run([*command, "--input", str(tone)], env=env, capture_output=True, text=True,
                             timeout=120, check=False)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "ĐANG PHÁT TRỰC TIẾP" in run.stdout
        assert "Phiên đã kết thúc (đã kết thúc) trên mọi cụm loa" in run.stdout, run.stdout
        _, sessions = deployment.api.call("GET", "/live", user="operator")
        [done] = sessions["items"]
        assert (done["state"], done["end_reason"], done["user"]) == ("ended", "ended", "approver")
        [entry] = wait_for(
            "the sink", lambda: both_sinks({"tule-c01": home}, done["id"]), timeout=30
        ).values()
        # All 8 s of it: the recording's lead-in covers going on air, and `live_stop` lets the agents'
        # jitter buffer air its end (at 0.5 s a step, the two edges may each fall in a mixed step).
        assert aired(home / "played" / entry["file"]).count(440) >= 14
