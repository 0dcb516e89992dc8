"""A live session on this device, as the `live_start` command gave it (DESIGN §4, §13).

Owns the session's shape, how it airs (its stream URLs until `not_after`, ending on its own when the source
has aired nothing audible for the dead-air limit) and which session is current as commands and plays come
and go. Precedence (emergency > live > relay/priority > normal) is the agent loop's. It must not play or
write state; it reports only the session's own start and the ends no play reports.
"""

from dataclasses import dataclass
from datetime import datetime

from edge_agent.outbox import Outbox
from edge_agent.playback import Playback
from edge_agent.stream import StreamJob
from protocol import Command


@dataclass(frozen=True)
class LiveSession:
    """A live session to air: from `urls` (in order) until `not_after`, at `volume` (None: the device's).

    `start_at` is when the session went on air: every agent airs the source's audio from that instant on,
    one playout delay later (None, from an older controller: what the stream sends).
    """

    session: str
    urls: tuple[str, ...]
    not_after: datetime
    volume: int | None = None
    start_at: datetime | None = None

    @classmethod
    def from_command(cls, command: Command) -> "LiveSession | None":
        """The session a `live_start` asks for (None for any other command)."""
        if command.command != "live_start" or command.session is None or command.not_after is None:
            return None
        return cls(command.session, command.urls, command.not_after, command.volume, command.start_at)

    @property
    def label(self) -> str:
        """What the play is called in logs, the heartbeat and the file sink."""
        return f"live-{self.session}"

    def job(self) -> StreamJob:
        """The stream to air: no filler, from `start_at` until `not_after` or the source falls silent."""
        return StreamJob(self.urls, self.not_after, live=True, start_at=self.start_at)


class LiveDesk:
    """The live session this device should air, as commands start and stop it and its plays end.

    `take` answers a `live_start`/`live_stop`: the reason to cut the play on air, when it is this session's.
    """

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.session: LiveSession | None = None

    def take(self, command: Command, playing: str | None) -> str | None:
        """Start a session (replacing another) or stop one; returns why to cut the play on air, if at all.

        `playing` is the session of the play on air (None when it is not a live play).
        """
        started = LiveSession.from_command(command)
        old = self.session
        cut = None
        if old is not None and (started is not None or old.session == command.session):
            self.session = None
            if playing == old.session:
                cut = "live_stop" if started is None else "replaced"
            elif started is None:
                self._outbox.emit("finished", session=old.session, reason="live_stop", source="live")
        if started is not None:
            self.session = started
            self._outbox.emit("received", session=started.session, detail="live_start", source="live")
        return cut

    def due(self, now: datetime, playing: str | None) -> LiveSession | None:
        """The session to air now; one past its not_after that is not on air ends (on air, it ends itself)."""
        live = self.session
        if live is not None and now >= live.not_after and playing != live.session:
            self.session = None
            self._outbox.emit("finished", session=live.session, reason="not_after", source="live")
            return None
        return live

    def ended(self, play: Playback) -> None:
        """A play ended: an emergency pauses a live session (it airs again after); any other end ends it."""
        live = self.session
        if live is not None and play.session == live.session and play.reason not in ("emergency", "shutdown"):
            self.session = None
