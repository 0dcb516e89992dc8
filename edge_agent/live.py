"""A live session on this device, as the `live_start` command gave it (DESIGN §4, §13).

Owns the session's shape and how it airs: its stream URLs until `not_after`, ending on its own when the
source has aired nothing audible for the dead-air limit. Precedence (emergency > live > relay/priority >
normal) is the agent loop's. It must not play, report or keep state itself.
"""

from dataclasses import dataclass
from datetime import datetime

from edge_agent.stream import StreamJob
from protocol import Command


@dataclass(frozen=True)
class LiveSession:
    """A live session to air: from `urls` (in order) until `not_after`, at `volume` (None: the device's)."""

    session: str
    urls: tuple[str, ...]
    not_after: datetime
    volume: int | None = None

    @classmethod
    def from_command(cls, command: Command) -> "LiveSession | None":
        """The session a `live_start` asks for (None for any other command)."""
        if command.command != "live_start" or command.session is None or command.not_after is None:
            return None
        return cls(command.session, command.urls, command.not_after, command.volume)

    @property
    def label(self) -> str:
        """What the play is called in logs, the heartbeat and the file sink."""
        return f"live-{self.session}"

    def job(self) -> StreamJob:
        """The stream to air: no filler, ends at `not_after` or when the source falls silent."""
        return StreamJob(self.urls, self.not_after, live=True)
