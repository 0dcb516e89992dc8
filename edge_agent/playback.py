"""One play in its own thread: amplifier on (warm-up), the player, amplifier off; cancellable at any point.

A play is a file handed to the player (`start_playback`) or PCM the agent decodes and checks itself
(`start_pcm`: a bulletin, a relay slot, a live session). Owns the sequence around a single play, its outcome
and the notes it leaves (stream started, gaps, dead air). It must not choose what to play, emit events or
write state: the agent reads the notes as they come and the outcome when `done` is set.
"""

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from edge_agent.airing import Air, Note, Outcome, Result
from edge_agent.amplifier import Amplifier
from edge_agent.clock import Clock
from edge_agent.player import Player, PlayerError, Track
from protocol import PlanItem, SourcedItem

log = logging.getLogger(__name__)


@dataclass
class Playback:
    """A play in progress; `item` is None for a test tone and a live session (`session`)."""

    item_id: str
    item: PlanItem | SourcedItem | None
    emergency: bool
    cancel: threading.Event
    done: threading.Event
    session: str | None = None
    ending: threading.Event = field(default_factory=threading.Event)  # end once what was received aired
    outcome: Outcome = "interrupted"
    reason: str | None = None
    detail: str | None = None
    notes: "queue.SimpleQueue[Note]" = field(default_factory=queue.SimpleQueue)

    def take_notes(self) -> list[Note]:
        """The notes left since the last call, oldest first."""
        out = []
        while True:
            try:
                out.append(self.notes.get_nowait())
            except queue.Empty:
                return out


def _run(
    playback: Playback, amplifier: Amplifier, on_done: threading.Event, body: Callable[[], None]
) -> Playback:
    def run() -> None:
        try:
            amplifier.on(playback.cancel)
            if not playback.cancel.is_set():
                body()
        except PlayerError as exc:
            playback.outcome, playback.reason, playback.detail = "failed", exc.reason, str(exc)
        except Exception as exc:
            # Any other failure (disk, GPIO) must still end the play cleanly and be reported.
            log.exception("play of %s failed", playback.item_id)
            playback.outcome, playback.reason, playback.detail = "failed", "player_crash", str(exc)
        finally:
            try:
                amplifier.off()
            finally:
                playback.done.set()
                on_done.set()

    threading.Thread(target=run, name=f"loaxa-play-{playback.item_id}", daemon=True).start()
    return playback


def start_playback(
    player: Player,
    amplifier: Amplifier,
    track: Track,
    item: PlanItem | None,
    *,
    emergency: bool,
    on_done: threading.Event,
) -> Playback:
    """Start a file play in a new thread; `on_done` (the agent's wake-up) is set when it ends."""
    playback = Playback(track.item_id, item, emergency, threading.Event(), threading.Event())

    def body() -> None:
        player.set_volume(track.volume)
        if not playback.cancel.is_set():
            played = player.play(track, playback.cancel)
            playback.outcome = "finished" if played else "interrupted"

    return _run(playback, amplifier, on_done, body)


@dataclass(frozen=True)
class PcmPlay:
    """A PCM play to start: who it is for, at what volume, and what airs (`air` fills the Air it is given)."""

    item_id: str
    volume: int
    air: Callable[[Air, threading.Event], Result]
    item: PlanItem | SourcedItem | None = None
    session: str | None = None
    emergency: bool = False


def start_pcm(
    player: Player,
    amplifier: Amplifier,
    play: PcmPlay,
    clock: Clock,
    *,
    dead_air_s: float,
    on_done: threading.Event,
) -> Playback:
    """Start a PCM play in a new thread: its notes wake the agent as they come, as does its end."""
    playback = Playback(
        play.item_id, play.item, play.emergency, threading.Event(), threading.Event(), session=play.session
    )

    def note(what: Note) -> None:
        playback.notes.put(what)
        on_done.set()

    def body() -> None:
        player.set_volume(play.volume)
        output = player.open_pcm(play.item_id, play.volume)
        result = Result("interrupted")
        try:
            result = play.air(Air(output, clock, note, dead_air_s, playback.ending), playback.cancel)
        finally:
            output.close(completed=result.outcome != "interrupted")
        playback.outcome = result.outcome
        if result.reason is not None:  # an interruption's reason is the agent's (set when it cancels)
            playback.reason, playback.detail = result.reason, result.detail

    return _run(playback, amplifier, on_done, body)
