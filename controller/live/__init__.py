"""Live sessions on the wire (issue 13, item 3): ingest mounts, the on-air watch, recorder, chunks.

The database side (who may go live, one session per commune, the stored sessions) is
controller.usecases.live's; this package only runs processes and sends commands.
"""

from controller.live.chunks import ChunkPipe, ChunkRefused
from controller.live.desk import LiveDesk, LiveHooks, LiveUnavailable, live_mount

__all__ = ["ChunkPipe", "ChunkRefused", "LiveDesk", "LiveHooks", "LiveUnavailable", "live_mount"]
