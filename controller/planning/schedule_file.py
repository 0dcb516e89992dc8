"""A whole window file: the commune's schedule plus per-village and per-cluster overrides (DESIGN §7).

    timezone = "Asia/Ho_Chi_Minh"
    blackout = ["2026-09-02"]            # no broadcast window on these local dates, anywhere
    [[window]] ...                       # the commune's windows
    [[override]]
    villages = ["phinh-ho"]              # or clusters = ["tule-c10"]; a cluster override wins
    blackout = ["2026-12-01"]            # added to the commune's
    [[override.window]] ...              # replaces the commune's windows (omit to keep them)

Owns reading these files, choosing a device's schedule, and pointing at the line of a problem. It must
not read the database (check-config passes the known village and cluster ids in) or the clock.
"""

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.planning.windows import Schedule, ScheduleError, parse_schedule

_OVERRIDE_KEYS = ("villages", "clusters", "blackout", "window")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Override:
    """Windows and blackout dates for some villages or clusters."""

    villages: frozenset[str]
    clusters: frozenset[str]
    schedule: Schedule


@dataclass(frozen=True)
class ScheduleFile:
    """The commune's schedule and its overrides, as read from one file."""

    default: Schedule
    overrides: tuple[Override, ...] = ()

    def for_device(self, device_id: str, village_id: str | None) -> Schedule:
        """The schedule a device follows: its cluster's override, else its village's, else the commune's."""
        for override in self.overrides:
            if device_id in override.clusters:
                return override.schedule
        for override in self.overrides:
            if village_id is not None and village_id in override.villages:
                return override.schedule
        return self.default

    def check_places(self, villages: Collection[str], clusters: Collection[str]) -> None:
        """Raise ScheduleError naming an override's village or cluster that does not exist."""
        for override in self.overrides:
            for kind, named, known in (
                ("village", override.villages, villages),
                ("cluster", override.clusters, clusters),
            ):
                for unknown in sorted(set(named) - set(known)):
                    raise ScheduleError(
                        f"{self.default.source}: override names unknown {kind} {unknown!r}; "
                        "check the ids in the device list (GET /api/v1/devices)",
                        unknown,
                    )


def load_schedule_file(path: Path) -> ScheduleFile:
    """Read and check a window file with its overrides."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"{path}: cannot read the schedule file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{path}: not valid TOML: {exc}") from exc
    return parse_schedule_file(data, str(path))


def parse_schedule_file(data: Mapping[str, Any], source: str) -> ScheduleFile:
    """Check a decoded window file; `source` names it in error messages."""
    default = parse_schedule(data, source)
    tables = data.get("override", [])
    if not isinstance(tables, list):
        raise ScheduleError(f"{source}: override must be [[override]] tables", "override")
    return ScheduleFile(default, tuple(_override(t, i, data, source) for i, t in enumerate(tables, 1)))


def _override(table: object, index: int, data: Mapping[str, Any], source: str) -> Override:
    where = f"{source}: override #{index}"
    if not isinstance(table, Mapping):
        raise ScheduleError(f"{where} must be an [[override]] table", "[[override]]")
    for key in sorted(set(table) - set(_OVERRIDE_KEYS)):
        raise ScheduleError(f"{where}: unknown key {key!r}; use {', '.join(_OVERRIDE_KEYS)}", key)
    places = {}
    for key in ("villages", "clusters"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ScheduleError(f'{where}: {key} must be a list of ids such as ["ban-lim"]', key)
        places[key] = frozenset(value)
    if not places["villages"] and not places["clusters"]:
        raise ScheduleError(f"{where}: name the villages or clusters it applies to", "[[override]]")
    merged = {
        "timezone": data.get("timezone"),
        "window": table.get("window", data.get("window")),
        "blackout": [*data.get("blackout", []), *table.get("blackout", [])],
    }
    return Override(places["villages"], places["clusters"], parse_schedule(merged, where))


def error_line(text: str, error: ScheduleError) -> int | None:
    """The 1-based line of the file `text` that `error` is about, when it can be found."""
    found = _TOML_LINE.search(str(error))
    if found:
        return int(found[1])
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    at = None
    for needle in error.needle:
        start = 0 if at is None else at - 1
        at = next((n for n, line in enumerate(lines[start:], start + 1) if needle in line), None)
        if at is None:
            return None
    return at
