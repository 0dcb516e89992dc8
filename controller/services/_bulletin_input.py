"""Checking what an operator typed for a bulletin: text, priority, targets, schedule.

Owns input rules and their messages; must not change the database (it only reads to check references).
"""

import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

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


def clean_text(value: object, what: str, max_len: int) -> str:
    """NFC-normalize, collapse surrounding whitespace, and refuse empty or overlong text."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{what} must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValidationFailed(f"{what} is empty: write something to broadcast")
    # Zero-width and other invisible characters are not whitespace, but nothing can be read aloud from
    # them: speech would fail after approval (issue 20). The speech renderer asks the same.
    if not any(ch.isalnum() for ch in text):
        raise ValidationFailed(
            f"{what}: không có chữ hay số nào (chỉ có dấu hoặc ký tự vô hình); hãy viết nội dung cần phát"
        )
    if len(text) > max_len:
        raise ValidationFailed(
            f"{what} is {len(text)} characters long; the limit is {max_len}: shorten it or split it in two"
        )
    return text


def check_priority(value: object) -> Priority:
    """One of normal, priority, emergency."""
    for priority in PRIORITIES:
        if value == priority:
            return priority
    raise ValidationFailed(f"priority {value!r} is not valid: choose one of {', '.join(PRIORITIES)}")


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


def _iso_date(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{what} must be a date YYYY-MM-DD, got {value!r:.40}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{what} must be a date YYYY-MM-DD, got {value!r:.40}") from None
    _within_horizon(day, what)
    return day.isoformat()


def _within_horizon(day: date, what: str) -> None:
    """Refuse a date the planner cannot work with (it would overflow, or never come)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationFailed(
            f"{what}: ngày {day.isoformat()} nằm ngoài khoảng {EARLIEST_DATE.isoformat()} – "
            f"{LATEST_DATE.isoformat()}; hãy chọn một ngày trong khoảng đó"
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
        raise ValidationFailed(f"schedule.mode must be one of {', '.join(SCHEDULE_MODES)}, got {value!r:.80}")
    mode = value.get("mode", "next_window")
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
        out.update(_daily(value))
    if "windows" in value:
        out["windows"] = _window_names(value["windows"], windows)
    if "start_time" in value:
        out["start_time"] = _start_time(value["start_time"], out.get("windows"), windows)
    out.update(_counts(value))
    if value.get("expires_at") is not None:
        out["expires_at"] = _moment(value["expires_at"], "schedule.expires_at").isoformat()
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
            raise ValidationFailed(f"schedule.{key} must be a whole number {low}–{high}, got {number!r:.40}")
        out[key] = number
    return out


def _daily(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    days = value.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAILY_DAYS:
        raise ValidationFailed(f"schedule.days must be a whole number 1–{MAX_DAILY_DAYS}, got {days!r:.40}")
    out["days"] = days
    if "start_date" in value:
        out["start_date"] = _iso_date(value["start_date"], "schedule.start_date")
        last = date.fromisoformat(out["start_date"]) + timedelta(days=days - 1)
        _within_horizon(last, f"schedule: ngày cuối của {days} ngày")
    if "weekdays" in value:
        weekdays = value["weekdays"]
        if (
            not isinstance(weekdays, list)
            or not weekdays
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays)
        ):
            raise ValidationFailed(
                f"schedule.weekdays must list days 0 (Monday) … 6 (Sunday), got {weekdays!r:.60}"
            )
        # Without a start date the span begins on the approval day, so the check waits for that.
        if "start_date" in out:
            first = date.fromisoformat(out["start_date"])
            if not {(first + timedelta(days=n)).weekday() for n in range(days)} & set(weekdays):
                raise ValidationFailed(
                    f"schedule: none of weekdays {sorted(set(weekdays))} falls within the {days} day(s) "
                    f"from {first}; add days or pick other weekdays"
                )
        out["weekdays"] = sorted(set(weekdays))
    return out


def _window_names(value: object, windows: Schedule | None) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w for w in value):
        raise ValidationFailed(
            "schedule.windows must be a non-empty list of window names such as ['morning'], "
            f"got {value!r:.80}"
        )
    if windows is not None:
        known = [w.name for w in windows.windows]
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValidationFailed(
                f"schedule.windows: no window named {', '.join(unknown)}; the windows are {', '.join(known)}"
            )
    return sorted(set(value))


def _start_time(value: object, names: list[str] | None, windows: Schedule | None) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        clock = time.fromisoformat(value).replace(microsecond=0)
    except ValueError:
        raise ValidationFailed(
            f'schedule.start_time must be a local time "HH:MM", got {value!r:.40}'
        ) from None
    text = clock.isoformat()
    if windows is not None:
        chosen = [w for w in windows.windows if names is None or w.name in names]
        if not any(w.start <= text < w.end for w in chosen):
            spans = ", ".join(f"{w.name} {w.start[:5]}–{w.end[:5]}" for w in chosen)
            raise ValidationFailed(
                f"schedule.start_time {text[:5]} is outside the chosen windows ({spans}); "
                "pick a time inside one"
            )
    return text


def _moment(value: object, what: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValidationFailed(
            f'{what} must be a date and time with a zone, e.g. "2026-11-30T12:00:00+07:00", got {value!r:.40}'
        )
    _within_horizon(moment.date(), what)
    return moment.astimezone(UTC)
