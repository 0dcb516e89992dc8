"""The Player port and its adapters: a file sink (demo, tests) and real players on ALSA (mpg123/aplay/ffplay).

Owns how a track leaves the Pi and how it is cut short: a whole file (`play`), or PCM the agent decoded
and checked itself (`open_pcm`: streams, and bulletins when `decodes_files`; edge_agent.pcm_out). It must
not decide what or when to play (that is schedule.py and agent.py) and must not touch MQTT or the state
database.
"""

import json
import logging
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from edge_agent.clock import Clock
from edge_agent.config import Backend
from edge_agent.pcm_out import AplayOutput, PcmOutput, PlayerError, WavSinkOutput

__all__ = ["FileSinkPlayer", "PcmOutput", "Player", "PlayerError", "ProcessPlayer", "Track"]
from protocol.timefmt import format_utc

log = logging.getLogger(__name__)
# How often a running player process is checked for a stop request.
_POLL_S = 0.05


@dataclass(frozen=True)
class Track:
    """One play: the audio file, its item, its length and the volume to play it at."""

    item_id: str
    path: Path
    duration_ms: int
    volume: int


class Player(Protocol):
    """Plays one track at a time, blocking, until it ends or `cancel` is set; or takes PCM to air.

    `decodes_files` says whether the agent should air bulletins through `open_pcm` (decoded and level-checked
    by the agent) rather than hand the file to `play`.
    """

    decodes_files: bool

    def play(self, track: Track, cancel: threading.Event) -> bool:
        """Play the track; True when it played to the end, False when `cancel` cut it short."""
        ...

    def set_volume(self, volume: int) -> bool:
        """Apply a volume 0–100 now; False when the hardware refused it (the value is still kept)."""
        ...

    def open_pcm(self, item_id: str, volume: int) -> PcmOutput:
        """An output for one play of PCM (s16le mono at edge_agent.pcm.RATE); the caller closes it."""
        ...


class FileSinkPlayer:
    """Writes what would be played into a directory: a copy of each file and a JSON line per play.

    It "plays" for the track's real duration and can be interrupted, so timing bugs show as they would on
    a speaker. Used by the demo's simulated agents and by the tests.
    """

    def __init__(self, output_dir: Path, clock: Clock, *, decode_files: bool = False) -> None:
        self.output_dir = output_dir
        self.log_path = output_dir / "plays.jsonl"
        self.decodes_files = decode_files
        self._clock = clock
        self._count = 0
        output_dir.mkdir(parents=True, exist_ok=True)

    def _name(self, item_id: str) -> str:
        self._count += 1
        return f"{self._clock.now():%Y%m%dT%H%M%S}-{self._count:04d}-{item_id}"

    def play(self, track: Track, cancel: threading.Event) -> bool:
        """Copy the file, wait its duration (or until cancelled), then log the play."""
        started = self._clock.now()
        copy = self.output_dir / f"{self._name(track.item_id)}{track.path.suffix}"
        shutil.copyfile(track.path, copy)
        finished_whole = not self._clock.wait(cancel, track.duration_ms / 1000)
        record = {
            "item_id": track.item_id,
            "file": copy.name,
            "volume": track.volume,
            "started_at": format_utc(started),
            "finished_at": format_utc(self._clock.now()),
            "completed": finished_whole,
        }
        with self.log_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return finished_whole

    def set_volume(self, volume: int) -> bool:
        """Nothing to adjust on a file: the volume is recorded per play."""
        return True

    def open_pcm(self, item_id: str, volume: int) -> PcmOutput:
        """A WAV file written at the speaker's pace (and a line in plays.jsonl when it is closed)."""
        return WavSinkOutput(self.output_dir, self._name(item_id), item_id, volume, self._clock)


def _commands(backend: Backend, device: str, path: Path) -> list[list[str]]:
    """The process pipeline that plays `path` on an ALSA device with this backend."""
    if path.suffix == ".wav":  # mpg123 and the aplay pipe decode MP3; WAV (the test tone) goes to aplay
        return [["aplay", "-q", "-D", device, str(path)]]
    if backend == "aplay":
        return [["mpg123", "-q", "-w", "-", str(path)], ["aplay", "-q", "-D", device, "-"]]
    if backend == "ffplay":
        return [["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", str(path)]]
    return [["mpg123", "-q", "-o", "alsa", "-a", device, str(path)]]


class ProcessPlayer:
    """Plays through a real player process on an ALSA device; stopping terminates the process."""

    def __init__(self, backend: Backend, device: str, mixer_control: str) -> None:
        # Bulletins are decoded by the agent and aired through aplay, so what ALSA gets is checked for dead
        # air; without ffmpeg (a Pi installed before the package depended on it) they go to the player whole.
        self.decodes_files = shutil.which("ffmpeg") is not None
        if not self.decodes_files:
            log.warning("ffmpeg is not installed: bulletins play unchecked and streams cannot play")
        self._backend = backend
        self._device = device
        self._mixer_control = mixer_control
        self._env = {**os.environ, "SDL_AUDIODRIVER": "alsa", "AUDIODEV": device}

    def play(self, track: Track, cancel: threading.Event) -> bool:
        """Run the player pipeline; terminate it when `cancel` is set."""
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for argv in _commands(self._backend, self._device, track.path):
                stdin = procs[-1].stdout if procs else subprocess.DEVNULL
                procs.append(
                    subprocess.Popen(
                        argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self._env
                    )
                )
        except OSError as exc:
            _terminate(procs)
            raise PlayerError("player_missing", f"cannot start the {self._backend} player: {exc}") from exc
        for upstream in procs[:-1]:
            # Only the next process reads this pipe: closing our copy lets the decoder see SIGPIPE.
            if upstream.stdout is not None:
                upstream.stdout.close()
        last = procs[-1]
        while last.poll() is None:
            if cancel.wait(_POLL_S):
                _terminate(procs)
                return False
        err = last.stderr.read().decode(errors="replace")[-300:] if last.stderr else ""
        _terminate(procs)
        if last.returncode != 0:
            raise PlayerError("player_error", f"{self._backend} exited with {last.returncode}: {err.strip()}")
        return True

    def set_volume(self, volume: int) -> bool:
        """Set the ALSA mixer control with amixer, on the card of the configured device."""
        card = _card_of(self._device)
        try:
            result = subprocess.run(
                ["amixer", "-q", *(["-c", card] if card else []), "sset", self._mixer_control, f"{volume}%"],
                capture_output=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("amixer failed for volume %s: %s", volume, exc)
            return False
        if result.returncode != 0:
            log.warning(
                "amixer refused volume %s on %s: %s", volume, self._mixer_control, result.stderr[-200:]
            )
            return False
        return True

    def open_pcm(self, item_id: str, volume: int) -> PcmOutput:
        """Raw PCM into aplay on the configured ALSA device (the volume is the mixer's)."""
        return AplayOutput(self._device)


def _card_of(device: str) -> str | None:
    """The ALSA card of a device like ``hw:Device,0`` or ``plughw:1``; None for ``default`` and others."""
    kind, _, rest = device.partition(":")
    if kind not in ("hw", "plughw") or not rest:
        return None
    card = rest.split(",", 1)[0]
    return card.removeprefix("CARD=") or None


def _terminate(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
