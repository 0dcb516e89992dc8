"""The as-run log with filters and CSV export, and the monthly report per cluster (CSV and printable).

Owns the HTML and CSV side of both. The log is controller.services.plays and uptime
controller.services.uptime; this module only filters, sums and lays out.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request

from controller import services
from controller.services.plays import MAX_PLAYS
from controller.services.scope import devices_in
from controller.services.views import PlayView
from web.context import web_context
from web.ui import common, monthly, query
from web.ui.session import page, user

bp = common.html_errors(Blueprint("ui_reports", __name__))

PLAY_COLUMNS = ("bulletin_id", "device", "village", "started_at", "finished_at", "status", "reason")


def _utc(day: date) -> datetime:
    """Local midnight of `day` as an aware datetime."""
    return datetime.combine(day, time(), common.schedule().timezone)


def _filtered() -> tuple[list[PlayView], dict[str, str], dict[str, str]]:
    """Plays matching the query string (from, to: local dates; device; bulletin), and the filters."""
    me = user()
    context = web_context()
    today = context.clock().astimezone(common.schedule().timezone).date()
    first = query.day("from") or today - timedelta(days=6)
    last = query.day("to") or today
    if last < first:
        first, last = last, first
    device = request.args.get("device") or None
    bulletin = query.optional_id("bulletin")
    with context.db.session() as db:
        scope = services.scope_of(db, me)
        if scope.above_commune():  # a district's or province's clusters, without their liveness
            villages = {v.id: v.name for v in services.list_villages(db) if scope.covers(v.commune_id)}
            devices = {d: v for d, v in services.device_villages(db).items() if v in villages}
        else:
            devices = {
                d.id: d.village_id
                for d in services.list_devices(db, context.clock(), commune_id=me.commune_id)
            }
            villages = {v.id: v.name for v in services.list_villages(db, me.commune_id)}
        rows = services.list_plays(
            db,
            start=_utc(first),
            end=_utc(last + timedelta(days=1)),
            device_id=device,
            bulletin_id=bulletin,
            among=None if scope.unlimited else devices_in(scope),
            limit=MAX_PLAYS,
        )
    rows = [p for p in rows if p.device_id in devices]
    filters = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "device": device or "",
        "bulletin": str(bulletin or ""),
    }
    village_of = {d: villages.get(v, v) for d, v in devices.items()}
    return rows, filters, village_of


@bp.get("/plays")
@page("plays.read")
def plays() -> str:
    """The as-run log between two days, optionally for one cluster or bulletin."""
    rows, filters, village_of = _filtered()
    return render_template("ui/plays.html", rows=list(reversed(rows)), filters=filters, village_of=village_of)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    """A UTF-8 CSV download (with a BOM, so spreadsheet programs show Vietnamese correctly)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else common.local(moment, "%Y-%m-%d %H:%M:%S")


@bp.get("/plays.csv")
@page("plays.read")
def plays_csv() -> Response:
    """The filtered as-run log as CSV (times in the commune's local time)."""
    rows, filters, village_of = _filtered()
    lines = (
        (
            p.bulletin_id or "",
            p.device_id,
            village_of.get(p.device_id, ""),
            _iso(p.started_at),
            _iso(p.finished_at),
            p.status,
            p.reason or "",
        )
        for p in rows
    )
    return csv_response(PLAY_COLUMNS, lines, f"nhat-ky-phat-{filters['from']}-{filters['to']}.csv")


@bp.get("/reports")
@page("plays.read")
def monthly_page() -> str:
    """The monthly report per cluster, printable."""
    report = monthly.build(request.args.get("month"), user())
    return render_template("ui/report.html", r=report)


@bp.get("/reports.csv")
@page("plays.read")
def monthly_csv() -> Response:
    """The monthly report per cluster as CSV."""
    report = monthly.build(request.args.get("month"), user())
    lines = (
        (
            row.device_id,
            row.name,
            row.village,
            row.airtime_s,
            row.bulletins,
            row.plays,
            "" if row.uptime is None else f"{row.uptime:.4f}",
        )
        for row in report.rows
    )
    return csv_response(monthly.COLUMNS, lines, f"bao-cao-{report.month}.csv")
