"""Starting a play on its path: a bulletin file, a relay slot's stream, a live session, a test tone.

A bulletin goes whole to the player, or decoded and checked when the player `decodes_files`.
Owns the wiring of each kind of play to the Player port (edge_agent.playback, .airing, .stream). It must not
choose what plays or when (edge_agent.agent, .schedule) or report anything.
"""

import threading
from pathlib import Path

from edge_agent.airing import Air, Result, air_file
from edge_agent.amplifier import Amplifier
from edge_agent.clock import Clock
from edge_agent.live import LiveSession
from edge_agent.playback import PcmPlay, Playback, start_pcm, start_playback
from edge_agent.player import Player, Track
from edge_agent.stream import StreamAiring, StreamJob, StreamSettings
from protocol import PlanItem, SourcedItem


class Starter:
    """Starts plays in their own threads; each sets `wake` as it leaves notes and when it ends."""

    def __init__(
        self,
        player: Player,
        amplifier: Amplifier,
        clock: Clock,
        wake: threading.Event,
        *,
        dead_air_s: float,
        settings: StreamSettings | None = None,
    ) -> None:
        self._player = player
        self._amplifier = amplifier
        self._clock = clock
        self._wake = wake
        self._dead_air_s = dead_air_s
        self._settings = settings or StreamSettings()

    def _pcm(self, play: PcmPlay) -> Playback:
        return start_pcm(
            self._player, self._amplifier, play, self._clock, dead_air_s=self._dead_air_s, on_done=self._wake
        )

    def _streaming(self, job: StreamJob) -> "_StreamBody":
        return _StreamBody(job, self._clock, self._settings)

    def file(self, item: PlanItem, path: Path, volume: int, *, emergency: bool) -> Playback:
        """A bulletin: decoded and level-checked when the player `decodes_files`, else handed over whole."""
        if not self._player.decodes_files:
            return self.tone(
                Track(item.item_id, path, item.asset.duration_ms, volume), item, emergency=emergency
            )
        duration_ms = item.asset.duration_ms

        def airing(air: Air, cancel: threading.Event) -> Result:
            return air_file(path, duration_ms, air, self._clock, cancel)

        return self._pcm(PcmPlay(item.item_id, volume, airing, item=item, emergency=emergency))

    def stream(self, item: SourcedItem, job: StreamJob, volume: int, *, emergency: bool) -> Playback:
        """A relay slot: its URLs in order, the filler while none answers, until the job's end."""
        return self._pcm(PcmPlay(item.item_id, volume, self._streaming(job), item=item, emergency=emergency))

    def live(self, live: LiveSession, volume: int) -> Playback:
        """A live session: its URLs until not_after, or until its source falls silent."""
        return self._pcm(PcmPlay(live.label, volume, self._streaming(live.job()), session=live.session))

    def tone(self, track: Track, item: PlanItem | None = None, *, emergency: bool = False) -> Playback:
        """A whole file handed to the player (a test tone, or a bulletin when the player decodes itself)."""
        return start_playback(
            self._player, self._amplifier, track, item, emergency=emergency, on_done=self._wake
        )


class _StreamBody:
    """Airs one stream job (a callable for PcmPlay)."""

    def __init__(self, job: StreamJob, clock: Clock, settings: StreamSettings) -> None:
        self._job, self._clock, self._settings = job, clock, settings

    def __call__(self, air: Air, cancel: threading.Event) -> Result:
        return StreamAiring(self._job, air, self._clock, self._settings).run(cancel)
