"""`loaxa live --input <ALSA device or file> --title ...`: speak live from the studio (issue 13, item 3).

Owns the studio side: it asks the running controller's REST API for a live session, runs ffmpeg to send the
ALSA capture (`hw:1,0`, `plughw:…`, `default`) or a file to the session's ingest URL, prints in Vietnamese
what is happening, and ends the session (`POST /api/v1/live/{id}/end`) on Ctrl+C or when the file ends.
Imports only the standard library (a studio PC needs no controller packages).
"""

import argparse
import getpass
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loaxa.errors import CliError

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
ALSA_PREFIXES = ("hw:", "plughw:", "default", "sysdefault", "dsnoop", "pulse")
LEAD_IN_S = 1.5  # silence before a recording: the controller's mount watch (0.25 s) and going on air
REASONS = {
    "ended": "đã kết thúc",
    "source_gone": "mất nguồn âm thanh",
    "silent": "nguồn im lặng quá 10 giây",
    "no_chunks": "điện thoại mất kết nối",
    "controller_stopped": "máy chủ dừng",
    "error": "lỗi máy chủ",
}


class Api:
    """A small REST client for `/api/v1` with a bearer token."""

    def __init__(self, server: str) -> None:
        self.base = server.rstrip("/") + "/api/v1"
        self.token: str | None = None

    def call(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        """One request; a 4xx/5xx answer becomes a CliError with the controller's Vietnamese message."""
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the operator's URL
                return dict(json.load(response))
        except urllib.error.HTTPError as exc:
            try:
                error = json.load(exc)["error"]
                message = f"{error['message']} ({error['code']})"
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise CliError(f"máy chủ từ chối: {message}") from exc
        except OSError as exc:
            raise CliError(f"không kết nối được máy chủ {self.base} ({exc}); kiểm tra --server") from exc


def is_file_input(source: str) -> bool:
    """Whether `--input` names a recording (else an ALSA capture device); raises when it names neither."""
    if source.startswith(ALSA_PREFIXES):
        return False
    if not Path(source).is_file():
        raise CliError(f"không tìm thấy tệp hoặc thiết bị ALSA {source!r} (ví dụ: hw:1,0 hoặc bai-noi.wav)")
    return True


def sender_argv(source: str, ingest_url: str) -> list[str]:
    """The ffmpeg command that sends `source` to the session's mount as 64 kbit/s mono MP3.

    A recording starts with LEAD_IN_S of silence: the session goes on air when the controller sees audio
    on the mount, and the agents air the mount from that instant on, so the recording's first words would
    otherwise fall before it. A person at a microphone starts speaking when the screen says on air.
    """
    if is_file_input(source):
        inputs = ["-re", "-i", source, "-af", f"adelay={int(LEAD_IN_S * 1000)}:all=1"]
    else:
        inputs = ["-f", "alsa", "-i", source]
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *inputs, "-vn", "-ac", "1",
        "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3", ingest_url,
    ]  # fmt: skip


def _wait_confirmed(api: Api, session: str, progress_s: float) -> str:
    """Wait while a two-person session is pending (a recording sent now would be lost); its new state."""
    while True:
        state = str(api.call("GET", f"/live/{session}")["state"])
        if state != "pending":
            return state
        print("  đang chờ người thứ hai xác nhận (Ctrl+C để huỷ)", flush=True)
        time.sleep(progress_s)


def _targets(args: argparse.Namespace) -> dict[str, list[str]]:
    if args.villages and args.clusters:
        raise CliError("chọn --villages hoặc --clusters, không cả hai")
    if args.villages:
        return {"villages": [v for v in args.villages.split(",") if v]}
    if args.clusters:
        return {"clusters": [c for c in args.clusters.split(",") if c]}
    return {}


def run_live(args: argparse.Namespace) -> int:
    """Open a session, send the audio, print progress; end the session on Ctrl+C or when the input ends."""
    recording = is_file_input(args.input)
    api = Api(args.server)
    password = os.environ.get("LOAXA_PASSWORD") or getpass.getpass(f"Mật khẩu của {args.user}: ")
    api.token = api.call("POST", "/auth/token", {"username": args.user, "password": password})["token"]
    opened = api.call("POST", "/live", {"title": args.title, "targets": _targets(args)})
    session = opened["id"]
    print(f"Đã mở phiên phát trực tiếp {session} tới {len(opened['devices'])} cụm loa.", flush=True)
    state = opened["state"]
    if state == "pending":
        print("Cần người thứ hai xác nhận trước khi lên sóng (quy tắc hai người).", flush=True)
        if recording:
            try:
                state = _wait_confirmed(api, session, args.progress_s)
            except KeyboardInterrupt:
                ended = api.call("POST", f"/live/{session}/end")
                print(f"Đã huỷ phiên ({REASONS.get(ended['end_reason'], ended['end_reason'])}).", flush=True)
                return 1
            if state == "ended":
                print("Phiên đã kết thúc trước khi được xác nhận.", flush=True)
                return 1
    sender = subprocess.Popen(
        sender_argv(args.input, opened["ingest_url"]),
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl+C reaches us, and we end the session before stopping ffmpeg
    )  # fmt: skip
    started = time.monotonic()
    try:
        while sender.poll() is None:
            now = api.call("GET", f"/live/{session}")
            if now["state"] != state:
                state = now["state"]
                if state == "on_air":
                    print("ĐANG PHÁT TRỰC TIẾP. Nhấn Ctrl+C để kết thúc.", flush=True)
            if state == "ended":
                reason = REASONS.get(now["end_reason"], now["end_reason"])
                print(f"Phiên đã kết thúc ({reason}).", flush=True)
                return 1
            if state == "on_air":
                print(f"  đang phát {int(time.monotonic() - started)} giây", flush=True)
            time.sleep(args.progress_s)
        print("Đã phát hết tệp âm thanh.", flush=True)
    except KeyboardInterrupt:
        print("\nĐang kết thúc phiên…", flush=True)
    finally:
        if sender.poll() is None:
            sender.send_signal(signal.SIGINT)
    ended = api.call("POST", f"/live/{session}/end")
    sender.wait(10)
    reason = REASONS.get(ended["end_reason"], ended["end_reason"])
    print(f"Phiên đã kết thúc ({reason}) trên mọi cụm loa. Bản ghi lưu trong kho lưu trữ.", flush=True)
    return 0


def add_live_command(add: Add) -> None:
    """Register `loaxa live`."""
    live = add("live", run_live, "speak live to the villages from an ALSA device or a file (studio)")
    live.add_argument("--input", required=True, help="ALSA capture device (hw:1,0) or an audio file")
    live.add_argument("--title", required=True, help="what the session is about")
    live.add_argument("--villages", help="village ids, comma-separated (default: every village)")
    live.add_argument("--clusters", help="device ids, comma-separated")
    live.add_argument(
        "--server", default=os.environ.get("LOAXA_URL", "http://127.0.0.1:8080"), help="controller URL"
    )
    live.add_argument("--user", default=os.environ.get("LOAXA_USER", "admin"), help="user with `live`")
    live.add_argument("--progress-s", type=float, default=2.0, help="seconds between progress lines")
