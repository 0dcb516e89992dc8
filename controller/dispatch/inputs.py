"""What goes into a planning run, read from the database: bulletins, devices, windows and pins.

Owns which approved bulletins still need placing and where (an emergency once per device, a window item
until the device played it, a recurring one until its last day, one from above only in the communes that
scheduled it, DESIGN §11), when a bulletin is over, and the signed
asset URLs the items carry. It decides no placement (controller.planning does) and writes nothing but
finishing bulletins that every target has played. A relay slot's URLs: controller.dispatch.relay_inputs.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final

from sqlalchemy.orm import Session

from controller import services
from controller.assets.signing import sign_asset_url
from controller.dispatch.relay_inputs import RelayUrl, relay_source
from controller.planning import (
    LOCAL_LEVEL,
    AudioVersion,
    BulletinSchedule,
    Pin,
    PlannedBulletin,
    PlannedDevice,
    PlanningFailure,
    PlanningInputs,
    PlanningRules,
    ScheduleFile,
    ScheduleOptions,
    guarded,
)
from controller.services import inbox
from controller.services.drills import drill_volumes
from controller.services.views import BulletinView
from protocol import Asset
from protocol.sources import reads_sources

_MAX_BULLETINS: Final = 500  # approved, unfinished bulletins of one commune: dozens in practice
_TERMINAL: Final = frozenset({"played", "skipped", "failed"})


@dataclass(frozen=True)
class EmergencyShape:
    """How a bulletin's `play_now` command plays: how many times, and the pause between."""

    repeat: int = 3
    gap_s: int = 5


@dataclass(frozen=True)
class HeldPlan:
    """A device's stored plan as the run found it: what its agent holds once it reports this version."""

    version: int
    areas: tuple[str, ...]
    item_ids: frozenset[str]


@dataclass(frozen=True)
class RunInputs:
    """One planning run's inputs, the bulletins found over, each emergency's shape, what was left out.

    `reach`: how each device can be reached (its area topics and what it last reported); `held`: each
    device's stored plan before the run.
    """

    inputs: PlanningInputs
    finished: tuple[int, ...]
    emergencies: Mapping[int, EmergencyShape]
    failures: tuple[PlanningFailure, ...] = ()
    reach: Mapping[str, services.DeviceReach] = field(default_factory=dict)
    held: Mapping[str, HeldPlan] = field(default_factory=dict)


@dataclass(frozen=True)
class AssetUrls:
    """Signed URLs whose expiry is fixed for the day, so that plans stay byte-stable within it.

    `relay` signs listener URLs of the controller's relay of a station (controller.streaming); they
    expire `relay_ttl` after the end of tomorrow, as assets do after `ttl`.
    """

    base_url: str
    secret: bytes
    ttl: timedelta
    relay: RelayUrl | None = None
    relay_ttl: timedelta = timedelta(days=2)

    def expiry(self, now: datetime, ttl: timedelta | None = None) -> datetime:
        """When URLs signed now expire: the end of tomorrow (UTC) plus `ttl` (default: the assets')."""
        day = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        return day + (self.ttl if ttl is None else ttl)

    def asset(self, session: Session, sha256: str, now: datetime) -> Asset:
        """The stored asset with a URL an agent may fetch until `expiry(now)`."""
        record = services.get_asset(session, sha256)
        url = sign_asset_url(self.base_url, sha256, self.secret, self.expiry(now))
        return Asset(sha256=sha256, bytes=record.bytes, duration_ms=record.duration_ms, url=url)


def gather(
    session: Session, now: datetime, *, schedules: ScheduleFile, rules: PlanningRules, urls: AssetUrls
) -> RunInputs:
    """Gather the planner's inputs; finish bulletins that every target has played (or given up)."""
    villages = {v.id: v for v in services.list_villages(session)}
    devices = services.device_villages(session)
    agent_versions = services.agent_versions(session)
    reach = services.device_reach(session)
    planned_devices = tuple(
        PlannedDevice(
            device_id=device_id,
            languages=frozenset(villages[village_id].languages if village_id in villages else ()),
            schedule=schedules.for_device(device_id, village_id),
            reads_sources=reads_sources(agent_versions.get(device_id)),
            areas=reach[device_id].areas if device_id in reach else (),
        )
        for device_id, village_id in devices.items()
    )
    known = set(devices)
    bulletins: list[PlannedBulletin] = []
    finished: list[int] = []
    shapes: dict[int, EmergencyShape] = {}
    failures: list[PlanningFailure] = []
    zone = schedules.default.timezone
    today = now.astimezone(zone).date()
    approved = services.list_bulletins(session, status="approved", limit=_MAX_BULLETINS)
    gates = inbox.gates(session, [b.id for b in approved])
    volumes = drill_volumes(session, [b.id for b in approved if b.priority == "emergency"])
    commune_of = {
        device_id: villages[village_id].commune_id
        for device_id, village_id in devices.items()
        if village_id in villages
    }
    for bulletin in approved:
        if not bulletin.audio or bulletin.approved_at is None:
            continue  # still rendering: planned as soon as its speech is attached
        first_day = bulletin.approved_at.astimezone(zone).date()
        read = guarded(bulletin.id, failures, partial(_schedule, bulletin.schedule, first_day))
        if read is None:
            continue  # left out with its reason; every other bulletin is still planned
        asked, options = read
        states = {d.device_id: d.state for d in bulletin.deliveries}
        targets = set(services.target_devices(session, bulletin)) & known
        gate = gates.get(bulletin.id)
        if gate is not None:  # from above: only where the commune scheduled it (DESIGN §11)
            targets = {d for d in targets if commune_of.get(d) in gate.communes}
        if _over(options, today, targets, states):
            services.finish(session, bulletin.id, now)
            finished.append(bulletin.id)
            continue
        if bulletin.priority == "emergency":
            shapes[bulletin.id] = EmergencyShape(options.emergency_repeat, options.emergency_gap_s)
        pending = _pending(bulletin, options, targets, states)
        relay = None
        if bulletin.source is not None:
            relay = relay_source(session, bulletin, urls.relay, urls.expiry(now, urls.relay_ttl))
            if relay is None:
                continue
        if pending:
            versions = tuple(
                AudioVersion(audio.language, urls.asset(session, audio.sha256, now))
                for audio in sorted(bulletin.audio, key=lambda a: a.position)
            )
            bulletins.append(
                PlannedBulletin(
                    bulletin_id=bulletin.id,
                    priority=bulletin.priority,
                    approved_at=bulletin.approved_at,
                    device_ids=frozenset(pending),
                    versions=versions,
                    expires_at=bulletin.expires_at,
                    schedule=options,
                    revision=asked.revision,
                    relay=relay,
                    level=LOCAL_LEVEL if gate is None else gate.level,
                    yields_on=frozenset(
                        d for d in pending if gate is not None and commune_of.get(d) in gate.yields_in
                    ),
                    volume=volumes.get(bulletin.id),
                )
            )
    pins, held = _stored_plans(session, known)
    inputs = PlanningInputs(tuple(bulletins), planned_devices, rules, pins)
    return RunInputs(inputs, tuple(finished), shapes, tuple(failures), reach, held)


def _schedule(stored: Mapping[str, Any], first_day: date) -> tuple[ScheduleOptions, BulletinSchedule]:
    """The bulletin's stored schedule, typed and resolved (either step may refuse bad stored data)."""
    asked = ScheduleOptions.from_json(stored)
    return asked, asked.resolve(first_day)


def _pending(
    bulletin: BulletinView, options: BulletinSchedule, targets: set[str], states: Mapping[str, str]
) -> set[str]:
    """The targets still to be given the bulletin.

    An emergency goes out once per device (its delivery row records the send); a window item stays in
    the plan until the device reports it played, a recurring one until its last day.
    """
    if bulletin.priority == "emergency":
        return {device for device in targets if device not in states}
    if options.recurring:
        return targets
    return {device for device in targets if states.get(device) != "played"}


def _over(options: BulletinSchedule, today: date, targets: set[str], states: Mapping[str, str]) -> bool:
    """Whether a bulletin is done: its last day has passed, or every target has played it (or given up)."""
    if options.recurring:
        return options.last_day is not None and today > options.last_day
    return bool(targets) and all(states.get(device) in _TERMINAL for device in targets)


def _stored_plans(session: Session, devices: set[str]) -> tuple[tuple[Pin, ...], dict[str, HeldPlan]]:
    """The stored plans' items as pins (the planner keeps them where they were published), and each plan."""
    _held = services.load_plans(session, devices)  # held while reading: no query per device
    pins: list[Pin] = []
    held: dict[str, HeldPlan] = {}
    for device_id in sorted(devices):
        stored = services.current_plan(session, device_id)
        if stored is None:
            continue
        starts = list(stored.item_starts())
        pins += (Pin(device_id, item_id, planned_start) for item_id, planned_start in starts)
        areas = tuple(stored.json.get("areas", ()))
        held[device_id] = HeldPlan(stored.version, areas, frozenset(item_id for item_id, _ in starts))
    return tuple(pins), held
