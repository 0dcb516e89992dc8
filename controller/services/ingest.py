"""The database side of MQTT ingestion (DESIGN §5): births and wills, heartbeats, and outbox events.

Liveness uses the controller's receive time; a heartbeat covers [t, t + 2.5 × interval]; a will older than
the current birth (by bdseq) is ignored; an event is stored once per (device, seq). Owns device liveness
fields, ingested events and the as-run log, and writes heartbeat coverage by the rules of
`controller.services.uptime`; must not parse MQTT payloads (callers pass protocol models) or commit (the
caller's session does, once per batch).
"""

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    Connection,
    CursorResult,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from controller.db.bulk import BulkWrite
from controller.db.models import (
    Bulletin,
    BulletinAudio,
    Delivery,
    Device,
    DeviceCoverage,
    DeviceEvent,
    Play,
)
from controller.services.deliveries import advance_delivery, find_delivery
from controller.services.devices import load_device
from controller.services.errors import NotFound
from controller.services.onair import record_dead_air, record_gap
from controller.services.uptime import COVERAGE_FACTOR, DEFAULT_INTERVAL, cut_coverage
from protocol import Event, Heartbeat, ProtocolError, Status

log = logging.getLogger(__name__)

# Event type → delivery state it leads to (None: keep the state, note the reason). `received` (a command
# or plan arrived) does not mean the agent holds the audio; only `asset_ready` does.
_DELIVERY_STATE: Final[dict[str, str | None]] = {
    "received": None,
    "asset_ready": "delivered",
    "asset_failed": "failed",
    "skipped": "skipped",
    "finished": "played",
    "interrupted": None,
    "failed": "failed",
}
_PLAY_END: Final = {"finished", "interrupted", "failed"}


# An event older than this when it arrives, or dated this far ahead of the controller's clock, is refused:
# an agent's outbox keeps events across outages of days, and its clock is NTP-synced (or floored).
EVENT_MAX_AGE: Final = timedelta(days=366)
EVENT_MAX_AHEAD: Final = timedelta(days=1)
# Core tables (typed as such for the statements below) of the two mapped classes.
_DEVICES = Device.metadata.tables[Device.__tablename__]
_COVERAGE = DeviceCoverage.metadata.tables[DeviceCoverage.__tablename__]
# The three writes of a batch, each one executemany that skips SQLAlchemy's per-row work (db/bulk.py).
_UPDATE_DEVICE = BulkWrite(
    update(_DEVICES).where(_DEVICES.c.id == bindparam("_id")).values(online=true()),
    ("_id", "last_seen", "metrics", "boot_id", "plan_version", "agent_version"),
    preencoded=("metrics",),
)
_EXTEND_SPAN = BulkWrite(update(_COVERAGE).where(_COVERAGE.c.id == bindparam("_id")), ("_id", "end_at"))
_OPEN_SPAN = BulkWrite(insert(_COVERAGE).inline(), ("device_id", "start_at", "end_at"))


@dataclass(slots=True)
class _Span:
    """A coverage span as loaded (id set) or opened by this batch (id None); `changed` if it grew."""

    id: int | None
    start_at: datetime
    end_at: datetime
    changed: bool = False


def record_status(session: Session, device_id: str, status: Status, received_at: datetime) -> bool:
    """Apply a birth or a will; returns False when it is stale and was ignored."""
    device = load_device(session, device_id)
    if status.state == "online":
        if device.boot_id == status.boot_id and device.bdseq is not None and status.bdseq < device.bdseq:
            log.info("stale birth from %s ignored (bdseq %s < %s)", device_id, status.bdseq, device.bdseq)
            return False
        device.online, device.boot_id, device.bdseq = True, status.boot_id, status.bdseq
        device.agent_version = status.version or device.agent_version
        device.last_seen = max(device.last_seen or received_at, received_at)
        log.info("device %s online (boot %s, bdseq %s)", device_id, status.boot_id, status.bdseq)
        return True
    if device.bdseq is not None and status.bdseq < device.bdseq:
        log.info("old will from %s ignored (bdseq %s < %s)", device_id, status.bdseq, device.bdseq)
        return False
    device.online = False
    cut_coverage(session, device_id, received_at)
    log.info("device %s offline (will, bdseq %s)", device_id, status.bdseq)
    return True


def record_heartbeat(
    session: Session,
    device_id: str,
    hb: Heartbeat,
    received_at: datetime,
    *,
    interval: timedelta = DEFAULT_INTERVAL,
) -> None:
    """Store a heartbeat's metrics, mark the device online, and extend its uptime coverage."""
    unknown = record_heartbeats(session, [(device_id, hb, received_at)], interval=interval)
    if unknown:
        raise NotFound(f"device {device_id!r} does not exist; provision it first")


def record_heartbeats(
    session: Session,
    beats: Sequence[tuple[str, Heartbeat, datetime]],
    *,
    interval: timedelta = DEFAULT_INTERVAL,
    as_received: Sequence[str | None] | None = None,
) -> set[str]:
    """Store many heartbeats (in arrival order) with a few statements; returns the ids of unknown devices.

    This is the controller's hottest write path (a province sends ~100 heartbeats a second, a burst after
    a broker restart thousands), so it skips the ORM unit of work, which cost two thirds of the time per
    heartbeat: two SELECTs load the devices' `last_seen` and their newest coverage spans, the rules of
    DESIGN §5 run in memory, and three executemany statements write the result (devices, extended spans,
    new spans). A heartbeat inside the newest span extends it, a later one opens a new span, and a
    straggler never overwrites newer metrics; tests/services/test_ingest_bulk.py checks this against the
    ORM version it replaced. `as_received`, when given, holds for each heartbeat its JSON text as it
    arrived, or None; a text is stored as the metrics as it is (the caller vouches it holds only fields
    the heartbeat reader knows), which saves writing the model back out as JSON.
    """
    if not beats:
        return set()
    # Pending ORM changes go first: the statements below read and write the tables directly.
    session.flush()
    connection = session.connection()
    ids = {device_id for device_id, _, _ in beats}
    last_seen: dict[str, datetime | None] = {
        device_id: seen
        for device_id, seen in connection.execute(
            select(_DEVICES.c.id, _DEVICES.c.last_seen).where(_DEVICES.c.id.in_(ids))
        )
    }
    loaded = _newest_spans(connection, last_seen)
    spans = dict(loaded)  # the newest span of each device as the batch goes on
    opened: list[tuple[str, _Span]] = []
    newest: dict[str, tuple[Heartbeat, datetime, str | None]] = {}
    covers = interval * COVERAGE_FACTOR
    texts = as_received or [None] * len(beats)
    for (device_id, hb, received_at), text in zip(beats, texts, strict=True):
        if device_id not in last_seen:
            continue
        span = spans.get(device_id)
        if span is None or received_at > span.end_at:
            spans[device_id] = span = _Span(None, received_at, received_at + covers)
            opened.append((device_id, span))
        elif received_at >= span.start_at:
            if received_at + covers > span.end_at:
                span.end_at, span.changed = received_at + covers, True
        else:
            # Older than the newest span, so its own span is already closed.
            log.debug("late heartbeat from %s at %s ignored for coverage", device_id, received_at)
        seen = last_seen[device_id]
        if seen is not None and received_at < seen:
            continue  # a straggler: the newer metrics stay
        last_seen[device_id] = received_at
        newest[device_id] = (hb, received_at, text)
    grown = [span for span in loaded.values() if span.changed]
    _write(connection, newest, grown, opened)
    _expire_loaded(session, newest.keys(), {span.id for span in grown})
    return ids - last_seen.keys()


def _newest_spans(connection: Connection, device_ids: Iterable[str]) -> dict[str, _Span]:
    """The newest coverage span of each device that has one, in one query."""
    newest = (
        select(_COVERAGE.c.device_id, func.max(_COVERAGE.c.end_at).label("end_at"))
        .where(_COVERAGE.c.device_id.in_(list(device_ids)))
        .group_by(_COVERAGE.c.device_id)
        .subquery()
    )
    rows = connection.execute(
        select(_COVERAGE.c.id, _COVERAGE.c.device_id, _COVERAGE.c.start_at, _COVERAGE.c.end_at).join(
            newest,
            (_COVERAGE.c.device_id == newest.c.device_id) & (_COVERAGE.c.end_at == newest.c.end_at),
        )
    )
    return {device_id: _Span(span_id, start, end) for span_id, device_id, start, end in rows}


def _write(
    connection: Connection,
    newest: dict[str, tuple[Heartbeat, datetime, str | None]],
    grown: list[_Span],
    opened: list[tuple[str, _Span]],
) -> None:
    """Write a batch's outcome: one executemany each for devices, grown spans and new spans."""
    _UPDATE_DEVICE.execute(
        connection,
        [
            (device_id, at, text or _metrics_text(hb), hb.boot_id, hb.plan_version, hb.agent_version)
            for device_id, (hb, at, text) in newest.items()
        ],
    )
    _EXTEND_SPAN.execute(connection, [(span.id, span.end_at) for span in grown])
    _OPEN_SPAN.execute(connection, [(device_id, s.start_at, s.end_at) for device_id, s in opened])


def _metrics_text(hb: Heartbeat) -> str:
    """A heartbeat as the JSON text of the metrics column."""
    return json.dumps(hb.to_json(), separators=(",", ":"), ensure_ascii=False)


def _expire_loaded(session: Session, device_ids: Iterable[str], span_ids: set[int | None]) -> None:
    """Expire the session's copies of rows written behind its back, so the ORM reads them afresh."""
    devices = set(device_ids)
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        if (isinstance(obj, Device) and state.identity[0] in devices) or (
            isinstance(obj, DeviceCoverage) and state.identity[0] in span_ids
        ):
            session.expire(obj)


def mark_silent_devices_offline(
    session: Session, now: datetime, interval: timedelta = DEFAULT_INTERVAL
) -> list[str]:
    """Set offline every online device whose last message's coverage has ended; returns their ids."""
    cutoff = now - interval * COVERAGE_FACTOR
    silent = list(
        session.scalars(
            select(Device).where(
                Device.online.is_(True), (Device.last_seen.is_(None)) | (Device.last_seen < cutoff)
            )
        )
    )
    for device in silent:
        device.online = False
        log.info("device %s offline: silent since %s", device.id, device.last_seen)
    return sorted(d.id for d in silent)


def prune_events(session: Session, before: datetime) -> int:
    """Forget ingested event numbers received before `before`; returns how many rows went.

    Keep them longer than an agent can hold events in its outbox, or a very late re-send counts twice.
    """
    result = session.execute(delete(DeviceEvent).where(DeviceEvent.received_at < before))
    return result.rowcount if isinstance(result, CursorResult) else 0


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """Insert a device_events row unless (device, seq) is there already; True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DeviceEvent).values(**values).on_conflict_do_nothing().returning(DeviceEvent.seq)
    return session.execute(statement).first() is not None


def _check_event_time(ev: Event, received_at: datetime) -> None:
    """Refuse an event dated far from its arrival (year 1 or 9999 broke the device's page for good)."""
    if not received_at - EVENT_MAX_AGE <= ev.at <= received_at + EVENT_MAX_AHEAD:
        raise ProtocolError(
            "bad_time", f"event {ev.seq} at {ev.at.isoformat()} is too far from its arrival {received_at}"
        )


def record_event(session: Session, device_id: str, ev: Event, received_at: datetime) -> bool:
    """Store an outbox event once: as-run log and deliveries; False when (device, seq) was seen before."""
    load_device(session, device_id)
    _check_event_time(ev, received_at)
    bulletin_id = ev.bulletin_id
    if bulletin_id is not None and session.get(Bulletin, bulletin_id) is None:
        log.warning("event %s/%s names unknown bulletin %s", device_id, ev.seq, bulletin_id)
        bulletin_id = None
    if (
        bulletin_id is not None
        and find_delivery(session, device_id, item_id=None, bulletin_id=bulletin_id) is None
    ):
        # Only what was sent to this device can be in its as-run log (issue 20: a device wrote entries
        # for others' bulletins).
        raise ProtocolError(
            "not_sent", f"event {ev.seq} names bulletin {bulletin_id}, never sent to {device_id}"
        )
    inserted = _insert_once(
        session,
        {
            "device_id": device_id,
            "seq": ev.seq,
            "type": ev.type,
            "at": ev.at,
            "received_at": received_at,
            "boot_id": ev.boot_id,
            "item_id": ev.item_id,
            "bulletin_id": bulletin_id,
            "reason": ev.reason,
        },
    )
    if not inserted:
        log.debug("duplicate event %s/%s ignored", device_id, ev.seq)
        return False
    if ev.item_id is None and bulletin_id is None and ev.sha256 is not None:
        _asset_event(session, device_id, ev, received_at)
        return True
    delivery = find_delivery(session, device_id, item_id=ev.item_id, bulletin_id=bulletin_id)
    if bulletin_id is None and delivery is not None:
        bulletin_id = delivery.bulletin_id
    if ev.type == "started":
        _play_started(session, device_id, ev, bulletin_id)
    elif ev.type in _PLAY_END:
        _play_ended(session, device_id, ev, bulletin_id)
    elif ev.type == "gap":
        record_gap(session, device_id, ev, _last_play(session, device_id, ev))
    elif ev.type == "dead_air":
        record_dead_air(session, device_id, ev)
    if delivery is not None and ev.type in _DELIVERY_STATE:
        reason = ev.reason or (ev.type if ev.type in ("interrupted", "asset_failed") else None)
        advance_delivery(
            session,
            delivery,
            received_at,
            state=_DELIVERY_STATE[ev.type],
            seq=ev.seq,
            played_at=ev.at if ev.type == "finished" else None,
            reason=reason,
        )
    return True


def _asset_event(session: Session, device_id: str, ev: Event, received_at: datetime) -> None:
    """An asset is ready (or failed) on a device: every delivery there whose bulletin uses it moves on."""
    deliveries = session.scalars(
        select(Delivery)
        .join(BulletinAudio, BulletinAudio.bulletin_id == Delivery.bulletin_id)
        .where(Delivery.device_id == device_id, BulletinAudio.asset_sha256 == ev.sha256)
    )
    for delivery in deliveries:
        advance_delivery(
            session, delivery, received_at, state=_DELIVERY_STATE[ev.type], seq=ev.seq,
            reason=ev.reason or (ev.type if ev.type == "asset_failed" else None),
        )  # fmt: skip


def _same_item(device_id: str, ev: Event) -> list[Any]:
    """The plays of the event's item (a live session's plays by their session)."""
    if ev.session is not None:
        return [Play.device_id == device_id, Play.session == ev.session]
    item = Play.item_id.is_(None) if ev.item_id is None else Play.item_id == ev.item_id
    return [Play.device_id == device_id, item]


def _last_play(session: Session, device_id: str, ev: Event) -> Play | None:
    """The newest play of the event's item opened before it (a gap belongs to that play)."""
    return session.scalar(
        select(Play).where(*_same_item(device_id, ev), Play.seq < ev.seq).order_by(Play.seq.desc()).limit(1)
    )


def _new_play(device_id: str, ev: Event, bulletin_id: int | None, **values: Any) -> Play:
    return Play(
        device_id=device_id, bulletin_id=bulletin_id, item_id=ev.item_id, seq=ev.seq,
        source=ev.source or "file", url=ev.url, session=ev.session, **values,
    )  # fmt: skip


def _play_started(session: Session, device_id: str, ev: Event, bulletin_id: int | None) -> None:
    """Open a play, or complete one whose end arrived before its start."""
    early_end = session.scalar(
        select(Play)
        .where(*_same_item(device_id, ev), Play.started_at.is_(None), Play.seq > ev.seq)
        .order_by(Play.seq)
        .limit(1)
    )
    if early_end is not None:
        early_end.started_at = ev.at
        early_end.url = early_end.url or ev.url
        return
    session.add(_new_play(device_id, ev, bulletin_id, started_at=ev.at, status="playing"))
    session.flush()


def _play_ended(session: Session, device_id: str, ev: Event, bulletin_id: int | None) -> None:
    """Close the open play of this item, or log an end without a start (e.g. failed before playing)."""
    play = session.scalar(
        select(Play)
        .where(*_same_item(device_id, ev), Play.status == "playing", Play.seq < ev.seq)
        .order_by(Play.seq.desc())
        .limit(1)
    )
    if play is None:
        play = _new_play(device_id, ev, bulletin_id)
        session.add(play)
    play.status, play.finished_at, play.end_seq = ev.type, ev.at, ev.seq
    play.reason = (ev.reason or ev.detail or "")[:256] or None
    session.flush()
