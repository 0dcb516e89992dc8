"""systemd integration of the controller: READY=1 once it serves, WATCHDOG=1 while it answers, STOPPING=1.

Owns the notification socket and the watchdog thread; outside systemd (no NOTIFY_SOCKET) it does
nothing. The unit (docs/loaxa-controller.service) sets Type=notify and WatchdogSec: the thread asks the
controller's own web server for /api/v1/health every third of that time and passes WATCHDOG=1 on only
when an answer comes (any status: a database outage is shown in health, and no restart fixes it), so
a controller whose web threads hang is killed and started again. It decides nothing else.
"""

import logging
import os
import threading
import urllib.error
import urllib.request

import sdnotify

log = logging.getLogger(__name__)


class Watchdog:
    """Service notifications and the watchdog's keep-alive for one controller process."""

    def __init__(self) -> None:
        self._health_url = ""
        # sdnotify leaks its socket when NOTIFY_SOCKET is unset, so only create it under systemd.
        self._notifier = sdnotify.SystemdNotifier() if os.environ.get("NOTIFY_SOCKET") else None
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.interval_s = int(usec) / 3e6 if usec.isdigit() and int(usec) > 0 else None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def ready(self, host: str, port: int) -> None:
        """Tell systemd the controller serves on host:port; start the keep-alive when WatchdogSec is set."""
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a wildcard: ask loopback
        self._health_url = f"http://{host}:{port}/api/v1/health"
        self._notify("READY=1")
        if self._notifier is not None and self.interval_s is not None:
            self._thread = threading.Thread(target=self._run, name="systemd-watchdog", daemon=True)
            self._thread.start()

    def stopping(self) -> None:
        """Tell systemd the controller is shutting down; stop the keep-alive."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._notify("STOPPING=1")
        if self._notifier is not None and self._notifier.socket is not None:
            self._notifier.socket.close()

    def alive(self) -> bool:
        """True when the web server answers its health endpoint (any HTTP status)."""
        timeout = self.interval_s or 5.0
        try:
            with urllib.request.urlopen(self._health_url, timeout=timeout):  # noqa: S310 - our own URL
                return True
        except urllib.error.HTTPError:
            return True
        except OSError as exc:
            log.warning("watchdog: the web server did not answer %s: %s", self._health_url, exc)
            return False

    def _run(self) -> None:
        interval = self.interval_s or 20.0  # only started when WATCHDOG_USEC set it
        while not self._stopping.wait(interval):
            if self.alive():
                self._notify("WATCHDOG=1")

    def _notify(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)
