"""Keeping the managed broker's logins equal to the device registry, whichever process changed it.

A device provisioned, reset or revoked by this process is announced and reloaded at once; one changed by
another process (`loaxa device add|revoke` against the same database, a second web process) is seen by
this watcher, which reads the accounts every few seconds and reloads mosquitto when they differ. It owns
the polling thread only: reading the accounts is the caller's `load`, the reload is ManagedBroker.sync.
"""

import logging
import threading
from collections.abc import Callable

from controller.mqtt.accounts import BrokerAccount
from controller.mqtt.broker import ManagedBroker

log = logging.getLogger(__name__)


class AccountSync:
    """Polls the registry's broker accounts and reloads the managed broker when they changed."""

    def __init__(
        self, broker: ManagedBroker, load: Callable[[], list[BrokerAccount]], *, interval_s: float = 2.0
    ) -> None:
        self._broker = broker
        self._load = load
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0

    def check(self) -> bool:
        """Read the accounts once and reload the broker if they changed; True when it reloaded."""
        if not self._broker.sync(self._load()):
            return False
        self.reloads += 1
        return True

    def start(self) -> None:
        """Start polling in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="loaxa-account-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._interval + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self.check():
                    log.info("broker accounts changed in the registry: managed broker reloaded")
            except Exception:  # a database hiccup must not end the watcher; the next round retries
                log.exception("reading the broker accounts failed; retrying in %s s", self._interval)
