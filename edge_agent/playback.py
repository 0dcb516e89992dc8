"""One play in its own thread: amplifier on (warm-up), the player, amplifier off; cancellable at any point.

Owns the sequence around a single play and its outcome. It must not choose what to play, emit events or
write state: the agent reads the outcome when `done` is set.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from edge_agent.amplifier import Amplifier
from edge_agent.player import Player, PlayerError, Track
from protocol import PlanItem

log = logging.getLogger(__name__)
Outcome = Literal["finished", "interrupted", "failed"]


@dataclass
class Playback:
    """A play in progress; `item` is None for a test tone."""

    track: Track
    item: PlanItem | None
    emergency: bool
    cancel: threading.Event
    done: threading.Event
    outcome: Outcome = "interrupted"
    reason: str | None = None
    detail: str | None = None

    @property
    def item_id(self) -> str:
        """The played item's id (or the test tone's)."""
        return self.track.item_id


def start_playback(
    player: Player,
    amplifier: Amplifier,
    track: Track,
    item: PlanItem | None,
    *,
    emergency: bool,
    on_done: threading.Event,
) -> Playback:
    """Start a play in a new thread; `on_done` (the agent's wake-up) is set when it ends."""
    playback = Playback(track, item, emergency, threading.Event(), threading.Event())

    def run() -> None:
        try:
            amplifier.on(playback.cancel)
            player.set_volume(track.volume)
            if not playback.cancel.is_set():
                played = player.play(track, playback.cancel)
                playback.outcome = "finished" if played else "interrupted"
        except PlayerError as exc:
            playback.outcome, playback.reason, playback.detail = "failed", exc.reason, str(exc)
        except Exception as exc:
            # Any other failure (disk, GPIO) must still end the play cleanly and be reported.
            log.exception("play of %s failed", track.item_id)
            playback.outcome, playback.reason, playback.detail = "failed", "player_crash", str(exc)
        finally:
            try:
                amplifier.off()
            finally:
                playback.done.set()
                on_done.set()

    threading.Thread(target=run, name=f"loaxa-play-{track.item_id}", daemon=True).start()
    return playback
