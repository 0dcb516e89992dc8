"""The live desk: one ingest mount per session, the watch that puts it on air and ends it, the recorder.

Owns, per open session: the Icecast source mount `/live-<id>` (managed: with its own password; a
province's Icecast: its source login), the watch thread (asks the streaming server whether the mount has
a sender; when the mount has audio it starts the recorder and sends signed
`live_start` to every target agent; a mount gone, 10 s of silence or a phone silent for 10 s end it with
`live_stop`), and the recorder (ffmpeg reading the mount as a listener into a file, with silencedetect).
Must not touch the database: the hooks tell controller.usecases.live what happened.
"""

import logging
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from controller.children import die_with_parent, end_process
from controller.live.chunks import ChunkPipe
from controller.streaming import StreamingServer
from controller.streaming.admin import source_accepted
from controller.streaming.listeners import sign_listener_url
from protocol.messages import Command

log = logging.getLogger(__name__)
MAX_SESSION: Final = timedelta(hours=4)  # `not_after` of live_start: the longest a session lasts


def live_mount(session_id: str) -> str:
    """The Icecast mount of a live session."""
    return f"/live-{session_id}"


class LiveUnavailable(RuntimeError):
    """The streaming server takes no live source now (mode `off`, or the province's Icecast refuses us)."""


@dataclass(frozen=True)
class LiveHooks:
    """What the desk tells the database side: on air at a time; ended with a reason and the recording."""

    on_air: Callable[[str, datetime], None]
    on_ended: Callable[[str, str, datetime, bytes], None]


@dataclass
class _Session:
    id: str
    devices: tuple[str, ...]
    confirmed: bool
    directory: Path
    stop: threading.Event = field(default_factory=threading.Event)
    aired: bool = False
    silent: threading.Event = field(default_factory=threading.Event)
    recorder: subprocess.Popen[bytes] | None = None
    chunks: ChunkPipe | None = None
    thread: threading.Thread | None = None
    end_reason: str = "ended"


class LiveDesk:
    """Opens, watches and ends live sessions on the streaming server; sends `live_start` / `live_stop`."""

    def __init__(
        self,
        streaming: StreamingServer,
        send: Callable[[Sequence[tuple[str, Command]]], list[bool]],
        secret: bytes,
        clock: Callable[[], datetime],
        hooks: LiveHooks,
        *,
        silence_s: float = 10.0,
        idle_s: float = 10.0,
        poll_s: float = 0.25,
    ) -> None:
        self._streaming = streaming
        self._send = send
        self._secret = secret
        self._clock = clock
        self._hooks = hooks
        self.silence_s, self.idle_s, self.poll_s = silence_s, idle_s, poll_s
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    # -- opening -------------------------------------------------------------------------------------

    def open(self, session_id: str, devices: tuple[str, ...], *, confirmed: bool = True) -> str:
        """Declare the session's mount and start watching it; return its ingest URL (icecast://)."""
        directory = Path(tempfile.mkdtemp(prefix=f"loaxa-live-{session_id}-"))
        live = _Session(session_id, devices, confirmed, directory)
        with self._lock:
            self._sessions[session_id] = live
            mounts = [live_mount(s) for s in self._sessions]
        try:
            urls = self._take_mounts(mounts, live_mount(session_id))
        except LiveUnavailable:
            self._forget(live)
            raise
        if live_mount(session_id) not in urls:
            self._forget(live)
            raise LiveUnavailable(
                "Máy chủ phát luồng không nhận nguồn trực tiếp (LOAXA_STREAM_MODE=off). "
                "Hãy đặt LOAXA_STREAM_MODE=managed hoặc external rồi khởi động lại bộ điều khiển."
            )
        live.thread = threading.Thread(
            target=self._watch, args=(live,), name=f"live-{session_id}", daemon=True
        )
        live.thread.start()
        return urls[live_mount(session_id)]

    def _forget(self, live: _Session) -> None:
        """Drop a session that never opened (no mount for it)."""
        with self._lock:
            self._sessions.pop(live.id, None)
        live.directory.rmdir()

    def _take_mounts(self, mounts: list[str], wanted: str | None = None) -> dict[str, str]:
        """Declare the open sessions' mounts (Icecast re-reads its file on SIGHUP, a moment later).

        Icecast does not say when it has re-read it, so the `wanted` mount is probed as a sender would
        (an HTTP PUT that stops at the answer) until its own password is accepted: the ingest URL handed
        out then works at the first try. A province's Icecast is not reloaded: it takes the source login
        at once or never (a wrong password, a server that does not answer), and then no session opens.
        """
        urls = self._streaming.set_source_mounts(mounts)
        if wanted is None or wanted not in urls:
            return urls
        deadline = time.monotonic() + (10 if self._streaming.reloads_for_mounts else 0)
        while not source_accepted(urls[wanted]):
            if not self._streaming.reloads_for_mounts:
                raise LiveUnavailable(
                    "Máy chủ Icecast của tỉnh không nhận nguồn của loaxa (không trả lời, hoặc từ chối "
                    "LOAXA_STREAM_SOURCE_USER/LOAXA_STREAM_SOURCE_PASSWORD). Hãy chạy «loaxa check-config» "
                    "để kiểm tra rồi thử lại."
                )
            if time.monotonic() > deadline:
                log.warning("managed icecast has not taken mount %s within 10 s", wanted)
                break
            time.sleep(0.05)
        return urls

    def confirm(self, session_id: str) -> None:
        """The second person confirmed (two-person rule): the session may go on air."""
        with self._lock:
            live = self._sessions.get(session_id)
        if live is not None:
            live.confirmed = True

    def open_chunks(self, session_id: str, ingest_url: str) -> ChunkPipe:
        """The browser's chunk pipe of a session (created on its first chunk)."""
        with self._lock:
            live = self._sessions[session_id]
            if live.chunks is None:
                live.chunks = ChunkPipe(ingest_url)
            return live.chunks

    def is_open(self, session_id: str) -> bool:
        """Whether the desk is watching this session."""
        with self._lock:
            return session_id in self._sessions

    # -- ending --------------------------------------------------------------------------------------

    def end(self, session_id: str, reason: str = "ended", *, wait: bool = True) -> None:
        """End a session everywhere: `live_stop` to agents, source kicked, recording handed over."""
        with self._lock:
            live = self._sessions.get(session_id)
        if live is None:
            return
        live.end_reason = reason
        live.stop.set()
        if wait and live.thread is not None and live.thread is not threading.current_thread():
            live.thread.join(15)

    def stop_all(self) -> None:
        """End every open session (the controller is stopping)."""
        with self._lock:
            ids = list(self._sessions)
        for session_id in ids:
            self.end(session_id, "controller_stopped")

    # -- the watch ----------------------------------------------------------------------------------

    def _mount_live(self, mount: str) -> bool:
        return self._streaming.mount_has_source(mount, self._clock())

    def _watch(self, live: _Session) -> None:
        mount = live_mount(live.id)
        missing = 0
        try:
            while not live.stop.wait(self.poll_s):
                if live.chunks is not None and live.chunks.idle_s() > self.idle_s:
                    live.end_reason = "no_chunks"
                    break
                present = self._mount_live(mount)
                if not live.aired:
                    if present and live.confirmed:
                        self._go_on_air(live)
                    continue
                missing = 0 if present else missing + 1
                if missing >= 2:
                    live.end_reason = "source_gone"
                    break
                if live.silent.is_set():
                    live.end_reason = "silent"
                    break
        except Exception:
            log.exception("live session %s: the watch failed", live.id)
            live.end_reason = "error"
        self._finish(live)

    def _listener_url(self, live: _Session, device: str | None) -> str:
        base = self._streaming.base_url
        if base is None:
            raise RuntimeError("no streaming server to listen to")
        return sign_listener_url(base, live_mount(live.id), self._secret, self._clock() + MAX_SESSION, device)

    def _go_on_air(self, live: _Session) -> None:
        now = self._clock()
        live.recorder = self._record(live)
        starts = [
            (
                device,
                Command(
                    command="live_start",
                    session=live.id,
                    urls=(self._listener_url(live, device),),
                    not_after=now + MAX_SESSION,
                    start_at=now,  # agents air the source from here on, all at once (edge_agent.playout)
                ),
            )
            for device in live.devices
        ]
        self._send_all(live, starts)
        live.aired = True
        log.info("live session %s on air to %d devices", live.id, len(live.devices))
        self._hooks.on_air(live.id, now)

    def _send_all(self, live: _Session, commands: list[tuple[str, Command]]) -> None:
        """Send every device its command at once (one wait for all); log those the broker did not take."""
        for (device, command), taken in zip(commands, self._send(commands), strict=True):
            if not taken:
                log.warning(
                    "live session %s: the broker did not take %s for %s", live.id, command.command, device
                )

    def _record(self, live: _Session) -> subprocess.Popen[bytes]:
        """Ffmpeg reads the mount as a listener: a copy into recording.mp3 and silencedetect on the audio."""
        process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "info", "-i", self._listener_url(live, None),
             "-map", "0:a", "-c:a", "copy", "-f", "mp3", str(live.directory / "recording.mp3"),
             "-map", "0:a", "-af", f"silencedetect=noise=-50dB:d={self.silence_s}", "-f", "null", "-"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, looked up before any fork
        )  # fmt: skip
        threading.Thread(target=self._read_recorder, args=(live, process), daemon=True).start()
        return process

    @staticmethod
    def _read_recorder(live: _Session, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None  # noqa: S101 - set by Popen(stderr=PIPE)
        with process.stderr:
            for line in process.stderr:
                if b"silence_start" in line:
                    log.info("live session %s: the source is silent", live.id)
                    live.silent.set()

    def _finish(self, live: _Session) -> None:
        if live.aired:
            self._send_all(live, [(d, Command(command="live_stop", session=live.id)) for d in live.devices])
        if live.chunks is not None:
            live.chunks.close()
        self._streaming.kill_source(live_mount(live.id))
        recording = b""
        if live.recorder is not None:
            end_process(live.recorder)
            path = live.directory / "recording.mp3"
            recording = path.read_bytes() if path.exists() else b""
        with self._lock:
            self._sessions.pop(live.id, None)
            mounts = [live_mount(s) for s in self._sessions]
        self._streaming.set_source_mounts(mounts)  # the session's source password is void from now on
        for leftover in live.directory.iterdir():
            leftover.unlink()
        live.directory.rmdir()
        log.info("live session %s ended (%s), recording %d bytes", live.id, live.end_reason, len(recording))
        self._hooks.on_ended(live.id, live.end_reason, self._clock(), recording)
