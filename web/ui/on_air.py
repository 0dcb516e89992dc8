"""The "Đang phát" card: for each village, what its loudspeakers play now, with an on-air indicator.

Owns turning the clusters' last heartbeats (`playing`) and the live sessions on air into words per village
("Trực tiếp: …", "Tiếp sóng VOV1", "Bản tin: …"). Reads controller.services only; changes nothing. A
heartbeat is at most one interval old, so the card can lag what the loudspeakers do by that much.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from controller import services
from controller.planning.item_ids import bulletin_of
from controller.services import on_air_now

OTHER_SOUND = "Âm thanh khác (tiếng thử hoặc lệnh từ máy chủ)"


@dataclass
class VillageOnAir:
    """A village: its name and what its clusters play now (empty: silent), each with how many clusters."""

    id: str
    name: str
    playing: dict[str, int] = field(default_factory=dict)


def _words(title: str, station: str | None) -> str:
    return f"Bản tin: {title}" if station is None else f"Tiếp sóng {station}"


def villages_on_air(db: Session, commune_id: str | None, names: dict[str, str]) -> list[VillageOnAir]:
    """Every village in `names` (id → name, the commune's), by name, with what its clusters play now.

    Two statements when nothing plays, whatever the number of clusters; one or two more for the titles.
    """
    villages = {village_id: VillageOnAir(village_id, name) for village_id, name in names.items()}
    live_of = {
        device: f"Trực tiếp: {live.title}"
        for live in on_air_now.live_on_air(db, commune_id)
        for device in live.devices
    }
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    playing = on_air_now.devices_playing(db, commune_id)
    village_of = {p.device_id: p.village_id for p in playing}
    if live_of:
        village_of |= services.device_villages(db)
    for device_id, title in live_of.items():  # on air even before its heartbeat says so
        if device_id in village_of:
            counts[village_of[device_id]][title] += 1
    heard = [p for p in playing if p.device_id not in live_of]
    ids = {bulletin_of(p.item) for p in heard}
    labels = on_air_now.what_plays(db, {i for i in ids if i is not None})
    for p in heard:
        bulletin_id = bulletin_of(p.item)
        label = labels.get(bulletin_id) if bulletin_id is not None else None
        words = OTHER_SOUND if label is None else _words(*label)
        counts[p.village_id][words] += 1
    for village_id, what in counts.items():
        if village_id in villages:
            villages[village_id].playing = dict(what)
    return sorted(villages.values(), key=lambda v: v.name)
