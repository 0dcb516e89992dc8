"""Checking what an operator typed for a bulletin: text, priority, targets, schedule.

Owns input rules and their messages; must not change the database (it only reads to check references).
"""

import unicodedata
from datetime import date
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import PRIORITIES, Device, Village
from controller.services.errors import ValidationFailed

MAX_TITLE: Final = 200
MAX_TEXT: Final = 5000  # about seven minutes of speech
MAX_REASON: Final = 1000
MAX_TARGETS: Final = 500
MAX_DAILY_DAYS: Final = 31
MAX_DATES: Final = 31
SCHEDULE_MODES: Final = ("next_window", "dates", "daily")
_SCHEDULE_KEYS: Final = {
    "next_window": {"mode", "windows"},
    "dates": {"mode", "dates", "windows"},
    "daily": {"mode", "days", "start_date", "windows"},
}


def clean_text(value: object, what: str, max_len: int) -> str:
    """NFC-normalize, collapse surrounding whitespace, and refuse empty or overlong text."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{what} must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValidationFailed(f"{what} is empty: write something to broadcast")
    if len(text) > max_len:
        raise ValidationFailed(
            f"{what} is {len(text)} characters long; the limit is {max_len}: shorten it or split it in two"
        )
    return text


def check_priority(value: object) -> str:
    """One of normal, priority, emergency."""
    if value not in PRIORITIES:
        raise ValidationFailed(f"priority {value!r} is not valid: choose one of {', '.join(PRIORITIES)}")
    return str(value)


def _id_list(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(f"targets.{key} must be a non-empty list of ids, got {value!r:.80}")
    if len(value) > MAX_TARGETS:
        raise ValidationFailed(f"targets.{key} names {len(value)} ids; the limit is {MAX_TARGETS}")
    return sorted(set(value))


def check_targets(session: Session, value: object, commune_id: str | None) -> dict[str, Any]:
    """Exactly one of {"all": true}, {"villages": [ids]}, {"clusters": [device ids]}, all existing."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationFailed(
            'targets must be exactly one of {"all": true}, {"villages": [ids]} or {"clusters": [ids]}, '
            f"got {value!r:.80}"
        )
    key, inner = next(iter(value.items()))
    if key == "all":
        if inner is not True:
            raise ValidationFailed(f"targets.all must be true, got {inner!r:.40}")
        return {"all": True}
    if key == "villages":
        ids = _id_list(inner, key)
        query = select(Village.id).where(Village.id.in_(ids))
        if commune_id is not None:
            query = query.where(Village.commune_id == commune_id)
        what = "village"
    elif key == "clusters":
        ids = _id_list(inner, key)
        query = select(Device.id).where(Device.id.in_(ids))
        if commune_id is not None:
            query = query.join(Village).where(Village.commune_id == commune_id)
        what = "cluster"
    else:
        raise ValidationFailed(f"targets key {key!r} is not valid: use all, villages or clusters")
    missing = sorted(set(ids) - set(session.scalars(query)))
    if missing:
        where = f" in commune {commune_id!r}" if commune_id else ""
        raise ValidationFailed(
            f"unknown {what} id(s){where}: {', '.join(missing)}; check the list of {what}s"
        )
    return {key: ids}


def _iso_date(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{what} must be a date YYYY-MM-DD, got {value!r:.40}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationFailed(f"{what} must be a date YYYY-MM-DD, got {value!r:.40}") from None


def check_schedule(value: object) -> dict[str, Any]:
    """A schedule: next_window (default), given dates, or daily for N days; optional window names."""
    if value is None:
        return {"mode": "next_window"}
    if not isinstance(value, dict) or value.get("mode") not in SCHEDULE_MODES:
        raise ValidationFailed(f"schedule.mode must be one of {', '.join(SCHEDULE_MODES)}, got {value!r:.80}")
    mode = value["mode"]
    unknown = sorted(set(value) - _SCHEDULE_KEYS[mode])
    if unknown:
        raise ValidationFailed(
            f"schedule mode {mode!r} does not take {', '.join(unknown)}; "
            f"allowed keys: {', '.join(sorted(_SCHEDULE_KEYS[mode]))}"
        )
    out: dict[str, Any] = {"mode": mode}
    if mode == "dates":
        dates = value.get("dates")
        if not isinstance(dates, list) or not 0 < len(dates) <= MAX_DATES:
            raise ValidationFailed(
                f"schedule.dates must list 1–{MAX_DATES} dates YYYY-MM-DD, got {dates!r:.80}"
            )
        out["dates"] = sorted({_iso_date(d, "schedule.dates[]") for d in dates})
    if mode == "daily":
        days = value.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAILY_DAYS:
            raise ValidationFailed(
                f"schedule.days must be a whole number 1–{MAX_DAILY_DAYS}, got {days!r:.40}"
            )
        out["days"] = days
        if "start_date" in value:
            out["start_date"] = _iso_date(value["start_date"], "schedule.start_date")
    if "windows" in value:
        windows = value["windows"]
        if not isinstance(windows, list) or not windows or not all(isinstance(w, str) and w for w in windows):
            raise ValidationFailed(
                'schedule.windows must be a non-empty list of window names such as ["morning"], '
                f"got {windows!r:.80}"
            )
        out["windows"] = sorted(set(windows))
    return out
