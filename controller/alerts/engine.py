"""What is firing now: announce each alert once when it starts and once when it ends, on every channel.

Owns the set of firing alerts (in memory: after a restart, what still holds is announced again) and the
counts of notifications sent and failed. A channel that fails is tried again at the next evaluation for
the alerts it missed, so a mail server down for a minute loses nothing.
"""

import logging
from collections import Counter
from collections.abc import Iterable, Sequence

from controller.alerts.notify import Notifier
from controller.alerts.rules import Alert

log = logging.getLogger(__name__)


class AlertEngine:
    """Turns each evaluation's alerts into notifications of what started and what ended."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = notifiers
        self.firing: dict[str, Alert] = {}
        self._pending: list[tuple[Notifier, Alert, bool]] = []
        self.sent: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def update(self, alerts: Iterable[Alert]) -> None:
        """Take the alerts that hold now; notify what started and what ended since the last call."""
        now = {alert.key: alert for alert in alerts}
        started = [alert for key, alert in now.items() if key not in self.firing]
        ended = [alert for key, alert in self.firing.items() if key not in now]
        self.firing = now
        for alert in started:
            log.warning("alert %s: %s", alert.key, alert.subject)
        for alert in ended:
            log.info("alert over %s: %s", alert.key, alert.subject)
        work = self._pending + [(n, a, False) for a in started for n in self.notifiers]
        work += [(n, a, True) for a in ended for n in self.notifiers]
        self._pending = []
        for notifier, alert, resolved in work:
            try:
                notifier.send(alert, resolved)
            except Exception as exc:  # any channel error: counted, logged, retried next time
                self.failed[notifier.name] += 1
                self._pending.append((notifier, alert, resolved))
                log.error(
                    "alert %s not sent by %s: %s: %s", alert.key, notifier.name, type(exc).__name__, exc
                )
            else:
                self.sent[notifier.name] += 1
