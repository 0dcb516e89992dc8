"""Checking what an operator typed for a bulletin: text, priority, targets, schedule.

Owns input rules and their messages; must not change the database (it only reads to check references).
"""

import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from controller.i18n import Message
from controller.planning import SCHEDULE_MODES, Schedule, ScheduleOptions
from controller.planning.options import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_EMERGENCY_GAP_S,
    MAX_EMERGENCY_REPEAT,
    MAX_REPEAT,
)
from controller.services.errors import ValidationFailed
from controller.services.scope import Scope, check_in_scope
from protocol import Priority
from protocol.plan import PRIORITIES

MAX_TITLE: Final = 200
MAX_TEXT: Final = 5000  # about seven minutes of speech
MAX_REASON: Final = 1000
MAX_TARGETS: Final = 500
MAX_DAILY_DAYS: Final = 31
MAX_DATES: Final = 31
_COMMON_KEYS: Final = {
    "mode",
    "windows",
    "start_time",
    "repeat",
    "expires_at",
    "emergency_repeat",
    "emergency_gap_s",
}
_SCHEDULE_KEYS: Final = {
    "next_window": _COMMON_KEYS,
    "dates": _COMMON_KEYS | {"dates"},
    "daily": _COMMON_KEYS | {"days", "start_date", "weekdays"},
}

# What each checked value is called in a message (Vietnamese in the catalogue).
LABELS: Final = {
    "title": Message("The title"),
    "text": Message("The text"),
    "reason": Message("The reason"),
    "reject_reason": Message("The reason for rejecting"),
}
_LABELS: Final = {
    "dates": Message("A broadcast day"),
    "start_date": Message("The first day"),
    "expires_at": Message("The end time"),
    "days": Message("The number of days"),
    "repeat": Message("The number of plays"),
    "emergency_repeat": Message("The number of emergency plays"),
    "emergency_gap_s": Message("The pause between emergency plays (seconds)"),
}
_EMPTY_TARGETS: Final = {
    "villages": Message("No village was chosen. Choose at least one village, or all villages."),
    "clusters": Message("No loudspeaker cluster was chosen. Choose at least one cluster, or all villages."),
}
_TARGETS_SHAPE: Final = Message(
    'Choose where to broadcast: all villages, some villages or some clusters (targets: {{"all": true}}, '
    '{{"villages": [...]}} or {{"clusters": [...]}}).'
)


def _day(day: date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def _bad_date(what: Message) -> Message:
    return Message("{what} must be a date such as 2026-12-07 (year-month-day).", what=what)


def clean_text(value: object, what: Message, max_len: int) -> str:
    """NFC-normalize, collapse surrounding whitespace, and refuse empty or overlong text."""
    if not isinstance(value, str):
        raise ValidationFailed(Message("{what} must be text. Type it again.", what=what))
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValidationFailed(Message("{what} is empty. Write what should be broadcast.", what=what))
    # Zero-width and other invisible characters are not whitespace, but nothing can be read aloud from
    # them: speech would fail after approval (issue 20). The speech renderer asks the same.
    if not any(ch.isalnum() for ch in text):
        raise ValidationFailed(
            Message(
                "{what} has no letter or digit (only marks or invisible characters). "
                "Write the words to broadcast.",
                what=what,
            )
        )
    if len(text) > max_len:
        raise ValidationFailed(
            Message(
                "{what} is {length} characters long, more than the {limit} allowed. "
                "Shorten it or split it into two bulletins.",
                what=what,
                length=len(text),
                limit=max_len,
            )
        )
    return text


def check_priority(value: object) -> Priority:
    """One of normal, priority, emergency."""
    for priority in PRIORITIES:
        if value == priority:
            return priority
    raise ValidationFailed(
        Message(
            "The priority {value} is not known. Choose one of: {allowed}.",
            value=repr(value)[:40],
            allowed=", ".join(PRIORITIES),
        )
    )


def _id_list(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(
            f"targets.{key} phải là danh sách mã không rỗng, đã nhận {value!r:.80}: chọn ít nhất một nơi."
        )
    if len(value) > MAX_TARGETS:
        raise ValidationFailed(
            f"targets.{key} có {len(value)} mã, quá giới hạn {MAX_TARGETS}: chọn cấp cao hơn (areas)."
        )
    return sorted(set(value))


def check_targets(session: Session, value: object, scope: Scope) -> dict[str, Any]:
    """Exactly one of {"all": true}, {"villages": [ids]}, {"clusters": [ids]}, {"areas": [codes]}.

    Every id must exist (UnknownTarget, 422) and lie under the sender's `scope` (TargetOutOfScope, 403).
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationFailed(
            'Nơi phát phải là đúng một trong {"all": true}, {"villages": [mã]}, {"clusters": [mã]} hoặc '
            f'{{"areas": [mã]}}; đã nhận {value!r:.80}. Hãy chọn lại nơi phát.'
        )
    key, inner = next(iter(value.items()))
    if key == "all":
        if inner is not True:
            raise ValidationFailed(f"targets.all phải là true, đã nhận {inner!r:.40}.")
        return {"all": True}
    if key not in ("villages", "clusters", "areas"):
        raise ValidationFailed(
            f"Khoá nơi phát {key!r:.40} không hợp lệ: dùng all, villages, clusters hoặc areas."
        )
    ids = _id_list(inner, key)
    check_in_scope(session, key, ids, scope)
    return {key: ids}


def _iso_date(value: object, what: Message) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(_bad_date(what))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_bad_date(what)) from None
    _within_horizon(day, what)
    return day.isoformat()


def _within_horizon(day: date, what: Message) -> None:
    """Refuse a date the planner cannot work with (it would overflow, or never come)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationFailed(
            Message(
                "{what}: the day {day} is outside {first} – {last}. Choose a day in that range.",
                what=what,
                day=_day(day),
                first=_day(EARLIEST_DATE),
                last=_day(LATEST_DATE),
            )
        )


def check_schedule(value: object, windows: Schedule | None = None) -> ScheduleOptions:
    """Check schedule options (docs/scheduling.md); with the commune's `windows`, also names and times."""
    if value is None:
        return ScheduleOptions()
    if isinstance(
        value, dict
    ):  # the server keeps "revision" (see bulletin_edit); a copy sent back is ignored
        value = {k: v for k, v in value.items() if k != "revision"}
    if not isinstance(value, dict) or value.get("mode", "next_window") not in SCHEDULE_MODES:
        raise ValidationFailed(
            Message(
                "The schedule kind (schedule.mode) must be one of: {allowed}.",
                allowed=", ".join(SCHEDULE_MODES),
            )
        )
    mode = value.get("mode", "next_window")
    unknown = sorted(set(value) - _SCHEDULE_KEYS[mode])
    if unknown:
        raise ValidationFailed(
            Message(
                "The schedule kind {mode} does not take {unknown}. Remove them; it takes: {allowed}.",
                mode=mode,
                unknown=", ".join(unknown),
                allowed=", ".join(sorted(_SCHEDULE_KEYS[mode])),
            )
        )
    out: dict[str, Any] = {"mode": mode}
    if mode == "dates":
        dates = value.get("dates")
        if not isinstance(dates, list) or not 0 < len(dates) <= MAX_DATES:
            raise ValidationFailed(
                Message("Choose from 1 to {limit} broadcast days (schedule.dates).", limit=MAX_DATES)
            )
        out["dates"] = sorted({_iso_date(d, _LABELS["dates"]) for d in dates})
    if mode == "daily":
        out.update(_daily(value))
    if "windows" in value:
        out["windows"] = _window_names(value["windows"], windows)
    if "start_time" in value:
        out["start_time"] = _start_time(value["start_time"], out.get("windows"), windows)
    out.update(_counts(value))
    if value.get("expires_at") is not None:
        out["expires_at"] = _moment(value["expires_at"], _LABELS["expires_at"]).isoformat()
    return ScheduleOptions.from_json(out)


def _counts(value: dict[str, Any]) -> dict[str, int]:
    out = {}
    for key, low, high in (
        ("repeat", 1, MAX_REPEAT),
        ("emergency_repeat", 1, MAX_EMERGENCY_REPEAT),
        ("emergency_gap_s", 0, MAX_EMERGENCY_GAP_S),
    ):
        if key not in value:
            continue
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValidationFailed(
                Message(
                    "{what} must be a whole number from {low} to {high}.",
                    what=_LABELS[key],
                    low=low,
                    high=high,
                )
            )
        out[key] = number
    return out


def _daily(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    days = value.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAILY_DAYS:
        raise ValidationFailed(
            Message(
                "{what} must be a whole number from {low} to {high}.",
                what=_LABELS["days"],
                low=1,
                high=MAX_DAILY_DAYS,
            )
        )
    out["days"] = days
    if "start_date" in value:
        out["start_date"] = _iso_date(value["start_date"], _LABELS["start_date"])
        last = date.fromisoformat(out["start_date"]) + timedelta(days=days - 1)
        _within_horizon(last, Message("The last of the {days} days", days=days))
    if "weekdays" in value:
        weekdays = value["weekdays"]
        if (
            not isinstance(weekdays, list)
            or not weekdays
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays)
        ):
            raise ValidationFailed(
                Message(
                    "Choose the weekdays from Monday to Sunday (schedule.weekdays: 0 is Monday, 6 Sunday)."
                )
            )
        # Without a start date the span begins on the approval day, so the check waits for that.
        if "start_date" in out:
            first = date.fromisoformat(out["start_date"])
            if not {(first + timedelta(days=n)).weekday() for n in range(days)} & set(weekdays):
                raise ValidationFailed(
                    Message(
                        "None of the chosen weekdays falls within the {days} day(s) from {first}. "
                        "Add days or choose other weekdays.",
                        days=days,
                        first=_day(first),
                    )
                )
        out["weekdays"] = sorted(set(weekdays))
    return out


def _window_names(value: object, windows: Schedule | None) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w for w in value):
        raise ValidationFailed(Message("Choose at least one broadcast window (morning or evening)."))
    if windows is not None:
        known = [w.name for w in windows.windows]
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValidationFailed(
                Message(
                    "There is no broadcast window named {unknown}. The windows are: {known}.",
                    unknown=", ".join(unknown),
                    known=", ".join(known),
                )
            )
    return sorted(set(value))


def _start_time(value: object, names: list[str] | None, windows: Schedule | None) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        clock = time.fromisoformat(value).replace(microsecond=0)
    except ValueError:
        raise ValidationFailed(
            Message("The start time must be a time of day such as 06:30 (hours:minutes).")
        ) from None
    text = clock.isoformat()
    if windows is not None:
        chosen = [w for w in windows.windows if names is None or w.name in names]
        if not any(w.start <= text < w.end for w in chosen):
            spans = ", ".join(f"{w.name} {w.start[:5]}–{w.end[:5]}" for w in chosen)
            raise ValidationFailed(
                Message(
                    "The start time {time} is outside the chosen windows ({spans}). Choose a time in one.",
                    time=text[:5],
                    spans=spans,
                )
            )
    return text


def _moment(value: object, what: Message) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValidationFailed(
            Message(
                "{what} must be a date and time with its zone, such as 2026-11-30T12:00:00+07:00.", what=what
            )
        )
    _within_horizon(moment.date(), what)
    return moment.astimezone(UTC)
