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
from controller.services import stations as station_services
from controller.services.errors import NotFound

OTHER_SOUND = "Âm thanh khác (tiếng thử hoặc lệnh từ máy chủ)"


@dataclass
class VillageOnAir:
    """A village: its name and what its clusters play now (empty: silent), each with how many clusters."""

    id: str
    name: str
    playing: dict[str, int] = field(default_factory=dict)


def _bulletin_words(db: Session, bulletin_id: int, stations: dict[int, str]) -> str:
    try:
        view = services.get_bulletin(db, bulletin_id)
    except NotFound:
        return f"Bản tin #{bulletin_id}"
    if view.source is not None and view.source.get("kind") == "relay":
        return f"Tiếp sóng {stations.get(view.source['station'], view.title)}"
    return f"Bản tin: {view.title}"


def villages_on_air(db: Session, commune_id: str | None) -> list[VillageOnAir]:
    """Every village of the commune, by name, with what its clusters play now."""
    villages = {v.id: VillageOnAir(v.id, v.name) for v in services.list_villages(db, commune_id)}
    live_of = {
        device: f"Trực tiếp: {live.title}"
        for live in on_air_now.live_on_air(db, commune_id)
        for device in live.devices
    }
    stations = {s.id: s.name for s in station_services.list_stations(db, include_retired=True)}
    words: dict[int, str] = {}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    playing = on_air_now.devices_playing(db, commune_id)
    village_of = {p.device_id: p.village_id for p in playing}
    if live_of:
        village_of |= services.device_villages(db)
    for device_id, title in live_of.items():  # on air even before its heartbeat says so
        if device_id in village_of:
            counts[village_of[device_id]][title] += 1
    for p in playing:
        if p.device_id in live_of:
            continue
        bulletin_id = bulletin_of(p.item)
        if bulletin_id is None:
            counts[p.village_id][OTHER_SOUND] += 1
            continue
        if bulletin_id not in words:
            words[bulletin_id] = _bulletin_words(db, bulletin_id, stations)
        counts[p.village_id][words[bulletin_id]] += 1
    for village_id, what in counts.items():
        if village_id in villages:
            villages[village_id].playing = dict(what)
    return sorted(villages.values(), key=lambda v: v.name)
