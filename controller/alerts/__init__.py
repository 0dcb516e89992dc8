"""Alerts to people: rules over the fleet's state, and notifications by e-mail, webhook and SMS gateway.

`rules` decides what is wrong (a pure function of states and `now`), `notify` sends, `engine` remembers
what is firing so each problem is announced once when it starts and once when it ends.
"""

from controller.alerts.engine import AlertEngine
from controller.alerts.notify import notifiers_for
from controller.alerts.rules import Alert, evaluate

__all__ = ["Alert", "AlertEngine", "evaluate", "notifiers_for"]
