"""Each device's current plan as the controller published it, and the deliveries it implies.

Owns plans rows; must not compute plans (controller.planning does) or publish them (the MQTT side does).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Device, Plan
from controller.services.deliveries import plan_deliveries
from controller.services.devices import load_device
from controller.services.errors import Conflict
from protocol import PlanBody, PlanItem, SourcedItem
from protocol.timefmt import parse_utc


def load_plans(session: Session, device_ids: Iterable[str]) -> list[object]:
    """Load these devices and their plans in two queries, for the plan functions below to find.

    The session's identity map holds rows weakly: they stay (and `current_plan`, `next_plan_version`,
    `save_plan` and `mark_plan_published` need no query of their own) only while the caller keeps the
    returned list. One planning run touches every device, so this saves ~4 queries per device.
    """
    ids = list(device_ids)
    return [
        *session.scalars(select(Device).where(Device.id.in_(ids))),
        *session.scalars(select(Plan).where(Plan.device_id.in_(ids))),
    ]


@dataclass(frozen=True)
class StoredPlan:
    """A device's stored plan: its version and body, as JSON (as published) and read back (typed)."""

    version: int
    json: dict[str, Any]

    @cached_property
    def body(self) -> PlanBody:
        """The body as the agent reads it (parsed on first use: a planning run compares JSON only)."""
        return PlanBody.from_json(self.json)

    def item_starts(self) -> Iterator[tuple[str, datetime]]:
        """(item_id, planned_start) of every item, read straight from the JSON (each planning run asks)."""
        for item in self.json.get("items", []):
            yield item["item_id"], parse_utc(item["planned_start"])

    def same_content(self, other: PlanBody) -> bool:
        """Whether `other` carries the same items, windows, volume and areas (not the generation time)."""
        return _content(self.json) == _content(other.to_json())


def _content(body: dict[str, Any]) -> tuple[object, ...]:
    return tuple(body.get(key) for key in ("items", "windows", "timezone", "volume", "areas"))


def current_plan(session: Session, device_id: str) -> StoredPlan | None:
    """The device's stored plan, or None if it has none yet."""
    load_device(session, device_id)
    plan = session.get(Plan, device_id)
    return None if plan is None else StoredPlan(plan.version, plan.body)


def next_plan_version(session: Session, device_id: str) -> int:
    """The version number the device's next plan must carry."""
    plan = session.get(Plan, device_id)
    return 1 if plan is None else plan.version + 1


def save_plan(session: Session, device_id: str, body: PlanBody, now: datetime) -> None:
    """Store a new plan for the device (version above the stored one) and mark its bulletins planned."""
    save_plans(session, [(device_id, body)], now)


def save_plans(session: Session, plans: Sequence[tuple[str, PlanBody]], now: datetime) -> None:
    """`save_plan` for several devices, their deliveries read and written once for all (a planning batch).

    Per plan item, looking up its bulletin and delivery made a query each, and each query flushed the
    session first: 0.53 s of a 0.88 s planning run for 200 devices (issue 18).
    """
    entries: list[tuple[int, str, str, datetime | None]] = []
    for device_id, body in plans:
        _store(session, device_id, body)
        items: list[PlanItem | SourcedItem] = [*body.items, *body.sourced]  # relay slots are deliveries too
        entries += [(item.bulletin_id, device_id, item.item_id, item.planned_start) for item in items]
    if entries:
        known = set(session.scalars(select(Bulletin.id).where(Bulletin.id.in_({e[0] for e in entries}))))
        plan_deliveries(session, now, [entry for entry in entries if entry[0] in known])
    session.flush()


def _store(session: Session, device_id: str, body: PlanBody) -> None:
    load_device(session, device_id)
    plan = session.get(Plan, device_id)
    if plan is not None and body.version <= plan.version:
        raise Conflict(
            f"plan version {body.version} for {device_id!r} is not above the stored version {plan.version}; "
            "use next_plan_version()"
        )
    if plan is None:
        plan = Plan(device_id=device_id, version=body.version, body={}, generated_at=body.generated_at)
        session.add(plan)
    plan.version, plan.body, plan.generated_at, plan.published_at = (
        body.version,
        body.to_json(),
        body.generated_at,
        None,
    )


def mark_plan_published(session: Session, device_id: str, version: int, now: datetime) -> bool:
    """Note that plan `version` went out to the broker; False if a newer plan replaced it meanwhile."""
    plan = session.get(Plan, device_id)
    if plan is None or plan.version != version:
        return False
    plan.published_at = now
    return True
