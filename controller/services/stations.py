"""Stations to relay (DESIGN §8, §13): a name and its stream URLs in order; add, change, list, retire.

Owns station rows, their input rules (names, URL shapes) and their audit entries. A URL is checked for
its shape only (http or https, a host, no spaces, not too long); whether it carries audio is
controller.streaming.probe's question, asked by the caller. Must not commit, probe or touch Icecast.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Station
from controller.services._bulletin_input import clean_text
from controller.services.audit import write_audit
from controller.services.errors import Conflict, NotFound, ValidationFailed
from controller.services.users import require
from controller.services.views import UserView
from protocol.plan import MAX_URL
from protocol.sources import MAX_STREAM_URLS

log = logging.getLogger(__name__)

MAX_NAME: Final = 120
# A relay item carries the station's URLs and then the controller's relay of it (protocol: ≤ 8 URLs).
MAX_URLS: Final = MAX_STREAM_URLS - 1
# The station URL, then the token the controller's relay URL adds: both must fit an agent's reader.
MAX_STATION_URL: Final = MAX_URL - 256


class StationExists(Conflict):
    """Another station in service has this name."""

    code = "station_exists"


class StationRetired(Conflict):
    """The station is retired: it cannot be changed or relayed."""

    code = "station_retired"


@dataclass(frozen=True)
class StationView:
    """A station as callers see it."""

    id: int
    name: str
    urls: tuple[str, ...]
    retired: bool
    commune_id: str | None
    created_at: datetime
    updated_at: datetime


def _view(station: Station) -> StationView:
    return StationView(
        id=station.id,
        name=station.name,
        urls=tuple(station.urls),
        retired=station.retired,
        commune_id=station.commune_id,
        created_at=station.created_at,
        updated_at=station.updated_at,
    )


def check_urls(value: object) -> list[str]:
    """1–7 distinct http(s) stream URLs, each with a host and without spaces (ValidationFailed otherwise)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_URLS:
        raise ValidationFailed(
            f"urls phải là danh sách 1–{MAX_URLS} địa chỉ luồng (http:// hoặc https://), nhận {value!r:.80}; "
            "hãy nhập ít nhất một địa chỉ phát của đài"
        )
    urls: list[str] = []
    for index, given in enumerate(value):
        where = f"urls[{index}]"
        if not isinstance(given, str) or not given.strip():
            raise ValidationFailed(f"{where}: cần một địa chỉ dạng văn bản, nhận {given!r:.40}")
        url = given.strip()
        parts = urlsplit(url)
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise ValidationFailed(
                f"{where}: {url[:80]!r} không phải địa chỉ luồng hợp lệ; hãy dùng dạng "
                "http://máy-chủ:cổng/đường-dẫn hoặc https://… (MP3, AAC hoặc HLS .m3u8)"
            )
        if any(ch.isspace() for ch in url) or len(url) > MAX_STATION_URL:
            raise ValidationFailed(
                f"{where}: địa chỉ có khoảng trắng hoặc dài quá {MAX_STATION_URL} ký tự; hãy kiểm tra lại"
            )
        if url in urls:
            raise ValidationFailed(f"{where}: địa chỉ {url[:80]!r} bị lặp lại; mỗi địa chỉ chỉ nhập một lần")
        urls.append(url)
    return urls


def _clean_name(value: object) -> str:
    return clean_text(value, "tên đài", MAX_NAME)


def _load(session: Session, station_id: int) -> Station:
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound(f"không có đài số {station_id}; hãy xem danh sách đài (GET /api/v1/stations)")
    return station


def _name_free(session: Session, name: str, commune_id: str | None, but: int | None = None) -> None:
    query = select(Station.id).where(Station.name == name, Station.retired.is_(False))
    if commune_id is not None:
        query = query.where(Station.commune_id == commune_id)
    taken = [i for i in session.scalars(query) if i != but]
    if taken:
        raise StationExists(f"đã có đài tên {name!r} (số {taken[0]}); hãy đặt tên khác hoặc sửa đài đó")


def create_station(
    session: Session, actor: UserView, now: datetime, *, name: object, urls: object
) -> StationView:
    """Add a station after checking its name and URLs."""
    require(actor, "station.manage")
    clean_name, clean_urls = _clean_name(name), check_urls(urls)
    _name_free(session, clean_name, actor.commune_id)
    station = Station(
        commune_id=actor.commune_id, name=clean_name, urls=clean_urls, retired=False, created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(station)
    session.flush()
    write_audit(
        session, now, actor=actor.username, action="station.create", entity="station",
        entity_id=station.id, detail={"name": clean_name, "urls": clean_urls},
    )  # fmt: skip
    log.info("station %s (%s) added by %s", station.id, clean_name, actor.username)
    return _view(station)


def update_station(
    session: Session,
    actor: UserView,
    station_id: int,
    now: datetime,
    *,
    name: object = None,
    urls: object = None,
) -> StationView:
    """Rename a station or replace its URLs (None leaves a field as it is)."""
    require(actor, "station.manage")
    station = _load(session, station_id)
    if station.retired:
        raise StationRetired(f"đài {station.name!r} đã ngừng dùng; hãy thêm một đài mới")
    detail: dict[str, object] = {}
    if name is not None:
        station.name = _clean_name(name)
        _name_free(session, station.name, station.commune_id, but=station.id)
        detail["name"] = station.name
    if urls is not None:
        station.urls = check_urls(urls)
        detail["urls"] = station.urls
    station.updated_at = now
    write_audit(
        session, now, actor=actor.username, action="station.update", entity="station", entity_id=station.id,
        detail=detail,
    )  # fmt: skip
    return _view(station)


def retire_station(session: Session, actor: UserView, station_id: int, now: datetime) -> StationView:
    """Take a station out of service: it is no longer relayed, and new relay slots cannot name it."""
    require(actor, "station.manage")
    station = _load(session, station_id)
    if not station.retired:
        station.retired, station.updated_at = True, now
        write_audit(
            session, now, actor=actor.username, action="station.retire", entity="station",
            entity_id=station.id, detail={"name": station.name},
        )  # fmt: skip
        log.info("station %s retired by %s", station.id, actor.username)
    return _view(station)


def get_station(session: Session, station_id: int) -> StationView:
    """One station (retired ones too)."""
    return _view(_load(session, station_id))


def list_stations(
    session: Session, *, commune_id: str | None = None, include_retired: bool = False
) -> list[StationView]:
    """Stations by id, in service only unless asked."""
    query = select(Station).order_by(Station.id)
    if commune_id is not None:
        query = query.where(Station.commune_id == commune_id)
    if not include_retired:
        query = query.where(Station.retired.is_(False))
    return [_view(s) for s in session.scalars(query)]
