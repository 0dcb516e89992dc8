"""The compose form's "when" part: every schedule option of the API as form fields, and back into words.

Owns turning form fields into the API's `schedule` object (docs/scheduling.md), a stored schedule back
into form fields (the edit page), and a schedule in Vietnamese words (cards, the bulletin page). Simple
slips (no date picked, a count that is not a number) are refused here in Vietnamese; every rule is
checked again by controller.services (check_schedule), which stays the authority.
"""

from datetime import date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from controller.planning import Schedule, current_or_next

MODES: Final = (
    ("next_window", "Khung giờ phát kế tiếp"),
    ("dates", "Vào những ngày chọn"),
    ("daily", "Hằng ngày, trong một số ngày"),
)
WEEKDAYS: Final = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
DATE_FIELDS: Final = 4  # date pickers shown for the "dates" mode; more dates go through the API
WINDOW_WORDS: Final = {"morning": "buổi sáng", "evening": "buổi chiều"}


class ScheduleProblem(ValueError):
    """A schedule field the operator must correct, said in Vietnamese."""


def _number(form: MultiDict[str, str], key: str, what: str, low: int, high: int) -> int | None:
    raw = form.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ScheduleProblem(f"{what} “{raw:.20}” phải là số nguyên từ {low} đến {high}.")
    return int(raw)


def _date(raw: str, what: str) -> str:
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise ScheduleProblem(f"{what} “{raw:.20}” không phải một ngày (năm-tháng-ngày).") from None


def _daily(form: MultiDict[str, str]) -> dict[str, Any]:
    days = _number(form, "days", "Số ngày phát", 1, 31)
    if days is None:
        raise ScheduleProblem("Hãy nhập số ngày phát (1–31).")
    out: dict[str, Any] = {"days": days}
    if form.get("start_date", "").strip():
        out["start_date"] = _date(form["start_date"], "Ngày bắt đầu")
    picked = {int(d) for d in form.getlist("weekdays") if d.isdigit() and int(d) < len(WEEKDAYS)}
    if picked and len(picked) < len(WEEKDAYS):  # every weekday is the same as none
        out["weekdays"] = sorted(picked)
    return out


def schedule_of(form: MultiDict[str, str], timezone: ZoneInfo) -> dict[str, Any]:
    """The API's schedule object from the form's fields (only the fields of the chosen mode count)."""
    mode = form.get("schedule", "next_window")
    if mode not in dict(MODES):
        raise ScheduleProblem("Hãy chọn thời gian phát: khung giờ kế tiếp, những ngày chọn, hoặc hằng ngày.")
    out: dict[str, Any] = {"mode": mode}
    if mode == "dates":
        picked = [raw for raw in form.getlist("dates") if raw.strip()]
        if not picked:
            raise ScheduleProblem("Hãy chọn ít nhất một ngày phát.")
        out["dates"] = sorted({_date(raw, "Ngày phát") for raw in picked})
    if mode == "daily":
        out.update(_daily(form))
    windows = [w for w in form.getlist("windows") if w]
    if windows:
        out["windows"] = windows
    if form.get("start_time", "").strip():
        try:
            out["start_time"] = time.fromisoformat(form["start_time"].strip()).strftime("%H:%M")
        except ValueError:
            raise ScheduleProblem(f"Giờ bắt đầu “{form['start_time']:.20}” phải có dạng giờ:phút.") from None
    repeat = _number(form, "repeat", "Số lần phát mỗi khung giờ", 1, 10)
    if repeat is not None and repeat > 1:
        out["repeat"] = repeat
    if form.get("expires_at", "").strip():
        try:
            local = datetime.fromisoformat(form["expires_at"].strip())
        except ValueError:
            raise ScheduleProblem(
                f"Hạn phát “{form['expires_at']:.20}” không phải ngày giờ hợp lệ."
            ) from None
        out["expires_at"] = local.replace(tzinfo=timezone).isoformat()
    return out


def form_of(schedule: dict[str, Any], timezone: ZoneInfo) -> dict[str, Any]:
    """Form fields that show a stored schedule again (the edit page); lists stay lists."""
    fields: dict[str, Any] = {"schedule": schedule.get("mode", "next_window")}
    for key in ("days", "start_date", "start_time", "repeat"):
        if schedule.get(key) is not None:
            fields[key] = str(schedule[key])
    fields["dates"] = list(schedule.get("dates", []))
    fields["weekdays"] = [str(d) for d in schedule.get("weekdays", [])]
    fields["windows"] = list(schedule.get("windows", []))
    if schedule.get("expires_at"):
        moment = datetime.fromisoformat(schedule["expires_at"]).astimezone(timezone)
        fields["expires_at"] = moment.strftime("%Y-%m-%dT%H:%M")
    return fields


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def describe(schedule: dict[str, Any], windows: Schedule) -> str:
    """A schedule in Vietnamese words, e.g. "Hằng ngày 5 ngày từ 08/12/2026 (Thứ Hai, Thứ Tư), buổi sáng"."""
    mode = schedule.get("mode", "next_window")
    if mode == "dates":
        words = "Các ngày " + ", ".join(_day(d) for d in schedule.get("dates", []))
    elif mode == "daily":
        start = f"từ {_day(schedule['start_date'])}" if schedule.get("start_date") else "từ ngày được duyệt"
        words = f"Hằng ngày trong {schedule.get('days')} ngày {start}"
        if schedule.get("weekdays"):
            words += " (" + ", ".join(WEEKDAYS[d] for d in schedule["weekdays"]) + ")"
    else:
        words = "Khung giờ phát kế tiếp"
    named = schedule.get("windows") or []
    if named:
        words += ", " + ", ".join(WINDOW_WORDS.get(w, w) for w in named)
    if schedule.get("start_time"):
        words += f", từ {schedule['start_time'][:5]}"
    if (schedule.get("repeat") or 1) > 1:
        words += f", phát {schedule['repeat']} lần mỗi khung giờ"
    if schedule.get("expires_at"):
        moment = datetime.fromisoformat(schedule["expires_at"]).astimezone(windows.timezone)
        words += f"; hết hạn lúc {moment:%H:%M %d/%m/%Y}"
    return words


def expected(schedule: dict[str, Any], windows: Schedule, now: datetime) -> str:
    """When it would first play if approved now, in words ("Buổi chiều 17:00 07/12"); "" if not known."""
    mode = schedule.get("mode", "next_window")
    if mode == "dates" and schedule.get("dates"):
        first = date.fromisoformat(schedule["dates"][0])
        start = datetime.combine(first, time(0), windows.timezone)
        now = max(now, start)
    elif mode == "daily" and schedule.get("start_date"):
        first = date.fromisoformat(schedule["start_date"])
        now = max(now, datetime.combine(first, time(0), windows.timezone))
    occurrence = current_or_next(windows, now)
    name = {"morning": "Buổi sáng", "evening": "Buổi chiều"}.get(occurrence.name, occurrence.name)
    return f"{name} {occurrence.start.astimezone(windows.timezone):%H:%M %d/%m/%Y}"
