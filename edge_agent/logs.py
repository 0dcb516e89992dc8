"""How loaxa's processes log: one logfmt (or JSON) line per event, with journald priorities.

Owns the log format and the levels of noisy libraries, for the agent and (through `loaxa`) the controller;
it must not decide what is logged. It lives here because the agent may import only its own modules and
protocol/, while the composition root (loaxa/) may import the agent's. Under systemd (stderr is the
journal's stream, JOURNAL_STREAM) each line starts with its syslog priority (`<4>` for a warning), so
`journalctl -p warning` filters, and carries no timestamp of its own (the journal adds it). Elsewhere
lines start with `ts=` in UTC. `LOAXA_LOG_FORMAT=json` writes JSON objects instead.
"""

import json
import logging
import os
import sys
import time
from typing import Any

# syslog priorities (sd-daemon(3)) of Python's levels
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}
# Libraries that say every 30-second job or packet at INFO/DEBUG; their warnings still come through.
QUIET = ("apscheduler", "paho", "waitress.queue")


def _priority(levelno: int) -> int:
    return next((p for level, p in sorted(_PRIORITY.items(), reverse=True) if levelno >= level), 7)


def _quote(value: str) -> str:
    if value and not any(c in value for c in ' "=\n\t') and value.isprintable():
        return value
    return json.dumps(value, ensure_ascii=False)


class StructuredFormatter(logging.Formatter):
    """`ts=… level=… logger=… msg="…"` (logfmt) or one JSON object per line; `<N>` first under journald."""

    def __init__(self, *, journald: bool, json_lines: bool = False) -> None:
        super().__init__()
        self.journald = journald
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        """One line (tracebacks are kept inside it, escaped)."""
        fields: dict[str, Any] = {}
        if not self.journald:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            fields["ts"] = f"{stamp}.{int(record.msecs):03d}Z"
        fields |= {"level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self.json_lines:
            line = json.dumps(fields, ensure_ascii=False)
        else:
            line = " ".join(f"{key}={_quote(str(value))}" for key, value in fields.items())
        return f"<{_priority(record.levelno)}>{line}" if self.journald else line


def stderr_is_journal() -> bool:
    """True when stderr is the journal's stream for this service (systemd sets JOURNAL_STREAM=dev:inode)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        stat = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return expected == f"{stat.st_dev}:{stat.st_ino}"


def configure(*, verbose: bool = False) -> None:
    """Log to stderr in the structured format; quiet the chatty libraries unless `verbose`.

    Like `logging.basicConfig`, it leaves a root logger that already has handlers alone (a CLI command
    run inside a test process, whose output pytest captures).
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    json_lines = os.environ.get("LOAXA_LOG_FORMAT", "logfmt").lower() == "json"
    handler.setFormatter(StructuredFormatter(journald=stderr_is_journal(), json_lines=json_lines))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
