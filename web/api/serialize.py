"""Turning the services' read models into API response models, and serving audio files.

Owns the mapping from `controller.services.views` to `web.api.schemas` and the HTTP details of sending
an asset (Range, ETag = sha256, caching). Must not query the database.
"""

from collections.abc import Iterator
from pathlib import Path

from flask import Response, request

from controller.assets import answer_range, is_sha256
from controller.services.views import AudioView, BulletinView, DeadAirView, DeviceView, PlayView
from web.api.errors import ApiError, abort
from web.api.schemas import AudioOut, BulletinOut, DeadAirOut, DeliveryOut, DeviceOut, GapOut, PlayOut
from web.context import web_context

AUDIO_MIME = "audio/mpeg"
# Assets are content-addressed: a given URL's bytes never change, so clients may cache them for good.
_IMMUTABLE_MAX_AGE_S = 365 * 86400
_CHUNK_BYTES = 64 * 1024


def audio_out(view: AudioView) -> AudioOut:
    """One audio version."""
    return AudioOut(
        sha256=view.sha256,
        duration_ms=view.duration_ms,
        engine=view.engine,
        language=view.language,
        kind=view.kind,
    )


def bulletin_out(view: BulletinView) -> BulletinOut:
    """A bulletin; `audio` is the version played first (Vietnamese when present), `audios` all of them."""
    audios = [audio_out(a) for a in sorted(view.audio, key=lambda a: a.position)]
    return BulletinOut(
        id=view.id,
        title=view.title,
        text=view.text,
        priority=view.priority,
        status=view.status,
        targets=view.targets,
        schedule=view.schedule,
        author=view.author or None,
        approver=view.approver,
        reject_reason=view.reject_reason,
        created_at=view.created_at,
        updated_at=view.updated_at,
        audio=audios[0] if audios else None,
        audios=audios,
        deliveries=[
            DeliveryOut(
                device=d.device_id,
                state=d.state,
                played_at=d.played_at,
                item_id=d.item_id,
                planned_start=d.planned_start,
                reason=d.reason,
            )
            for d in view.deliveries
        ],
        source=view.source,
    )


def device_out(view: DeviceView, *, detail: bool = False) -> DeviceOut:
    """A device; `detail` adds metrics and uptime over 7 days."""
    return DeviceOut(
        id=view.id,
        name=view.name,
        village=view.village_id,
        speakers=view.speakers,
        online=view.online,
        last_seen=view.last_seen,
        uptime_24h=view.uptime_24h,
        uptime_7d=view.uptime_7d if detail else None,
        agent_version=view.agent_version,
        plan_version=view.plan_version,
        metrics=view.metrics if detail else None,
        dead_air_last=_dead_air_out(view.dead_air_last) if detail and view.dead_air_last else None,
    )


def _dead_air_out(view: DeadAirView) -> DeadAirOut:
    return DeadAirOut(
        started_at=view.started_at, duration_s=view.duration_s, kind=view.kind, ongoing=view.ongoing,
        item_id=view.item_id, session=view.session,
    )  # fmt: skip


def play_out(view: PlayView) -> PlayOut:
    """One as-run log entry."""
    return PlayOut(
        bulletin_id=view.bulletin_id,
        device=view.device_id,
        started_at=view.started_at,
        finished_at=view.finished_at,
        status=view.status,
        source=view.source,
        url=view.url,
        session=view.session,
        gaps=[
            GapOut(started_at=g.started_at, ended_at=g.ended_at, url=g.url, reason=g.reason, detail=g.detail)
            for g in view.gaps
        ],
    )


def send_asset(sha256: str) -> Response:
    """The MP3 with this sha256: Range (206 / 416), ETag = sha256 with If-None-Match (304); 404 if absent."""
    store = web_context().assets
    if not is_sha256(sha256) or not store.exists(sha256):
        abort(404, f"audio asset {sha256[:80]!r} is not in the asset store")
    etag = f'"{sha256}"'
    cache = {"ETag": etag, "Cache-Control": f"public, max-age={_IMMUTABLE_MAX_AGE_S}, immutable"}
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers={**cache, "Accept-Ranges": "bytes"})
    answer = answer_range(request.headers.get("Range"), store.size(sha256))
    if answer.status == 416:
        raise ApiError(
            416,
            f"Range {request.headers.get('Range')!r} is outside the {store.size(sha256)}-byte asset; "
            "resume from a smaller offset or download the whole file",
            headers=answer.headers,
        )
    body = _chunks(store.path(sha256), answer.start, answer.length)
    return Response(body, status=answer.status, mimetype=AUDIO_MIME, headers={**answer.headers, **cache})


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
