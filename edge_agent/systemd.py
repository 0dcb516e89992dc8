"""systemd integration: READY=1 at start, WATCHDOG=1 from every loop pass, STOPPING=1 at shutdown.

Owns the sdnotify socket; outside systemd (no NOTIFY_SOCKET) it does nothing. The unit file
(firmware_notes/loaxa-agent.service) sets Type=notify and WatchdogSec, so a main loop that stops passing
gets the process killed and restarted. It must not decide anything about the agent.
"""

import os

import sdnotify


class Systemd:
    """Sends service notifications when running under systemd."""

    def __init__(self) -> None:
        # sdnotify leaks its socket when NOTIFY_SOCKET is unset, so only create it under systemd.
        self._notifier = sdnotify.SystemdNotifier() if os.environ.get("NOTIFY_SOCKET") else None

    def notify(self, state: str) -> None:
        """Send one notification, e.g. ``WATCHDOG=1``."""
        if self._notifier is not None:
            self._notifier.notify(state)

    def close(self) -> None:
        """Close the notification socket."""
        if self._notifier is not None and self._notifier.socket is not None:
            self._notifier.socket.close()
