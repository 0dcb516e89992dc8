"""Relay slots in the planner (DESIGN §4, §8): where a slot sits in a window occurrence, and its plan item.

A relay slot is a bulletin whose sound is a station's stream: it plays at its start time for its duration,
inside a window, and is placed before the window's other items (relay and priority share a rank, and a
slot's time is fixed while the others can move around it). Owns that geometry and the `SourcedItem` a
slot becomes; must not read the clock, the database or the network.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from controller.planning.model import PlannedBulletin
from controller.planning.windows import WindowOccurrence
from protocol import Asset, SourcedItem, StreamSource


def relay_slot(
    bulletin: PlannedBulletin, window: WindowOccurrence, zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The slot's (start, end) in this occurrence, or None when it does not lie wholly inside it."""
    relay, start_time = bulletin.relay, bulletin.schedule.start_time
    if relay is None or start_time is None:
        return None
    start = datetime.combine(window.local_date, start_time, tzinfo=zone).astimezone(UTC)
    end = start + relay.duration
    if not window.start <= start or end > window.end:
        return None
    return start, end


def relay_item(
    bulletin: PlannedBulletin, item_id: str, filler: Asset, slot: tuple[datetime, datetime], window: str
) -> SourcedItem:
    """The plan item of one placed slot: the station's URLs in order, the filler, the slot's times."""
    relay = bulletin.relay
    if relay is None:
        raise ValueError(f"bulletin {bulletin.bulletin_id} is not a relay slot")
    start, end = slot
    return SourcedItem(
        item_id=item_id,
        bulletin_id=bulletin.bulletin_id,
        priority=bulletin.priority,
        source=StreamSource(
            kind="relay",
            urls=relay.urls,
            station=relay.station,
            duration_s=int(relay.duration.total_seconds()),
        ),
        not_before=start,
        not_after=end,
        planned_start=start,
        window=window,
        asset=filler,
    )
