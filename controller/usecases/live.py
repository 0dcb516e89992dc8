"""Live session use cases (issue 13, item 3): go live, confirm (two-person rule), end, look up, replay.

Owns the `live_sessions` rows and their rules: the `live` permission, one session at a time per commune
(a second is refused with who is on air), targets → devices, the recording stored like any upload.
The processes and commands are controller.live.LiveDesk's; the desk reports back through `on_air` and
`on_ended` here.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db import Database
from controller.db.models import LiveSession, User
from controller.live import LiveDesk, LiveHooks
from controller.services import users
from controller.services._bulletin_input import check_targets
from controller.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from controller.services.scope import devices_for, scope_of
from controller.services.views import UserView

log = logging.getLogger(__name__)
VIETNAM: Final = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_TITLE: Final = 200


class LiveBusy(Conflict):
    """Someone is already on air in this commune."""

    code = "live_busy"


@dataclass(frozen=True)
class LiveView:
    """A live session as the API shows it."""

    id: str
    user: str
    title: str
    targets: dict[str, Any]
    devices: tuple[str, ...]
    state: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    recording_sha256: str | None


def _view(row: LiveSession, username: str) -> LiveView:
    return LiveView(
        id=row.id, user=username, title=row.title, targets=dict(row.targets), devices=tuple(row.devices),
        state=row.state, created_at=row.created_at, started_at=row.started_at, ended_at=row.ended_at,
        end_reason=row.end_reason, recording_sha256=row.recording_sha256,
    )  # fmt: skip


def _targets(session: Session, actor: UserView, targets: object) -> tuple[dict[str, Any], list[str]]:
    """The checked targets and the clusters they reach (revoked ones never).

    Targets are checked as for bulletins; `{}` or none means everything under the actor's area.
    """
    wanted = {"all": True} if targets is None or targets == {} else targets
    scope = scope_of(session, actor)
    clean = check_targets(session, wanted, scope)
    return clean, devices_for(session, clean, scope)


class LiveUseCases:
    """Live sessions as committed steps; the desk airs them."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        desk_factory: Callable[[LiveHooks], LiveDesk],
        store_recording: Callable[[bytes, str], str],
        *,
        two_person: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self.desk = desk_factory(LiveHooks(on_air=self._on_air, on_ended=self._on_ended))
        self._store_recording = store_recording
        self.two_person = two_person
        self._ingest: dict[str, str] = {}

    def start(self, actor: UserView, *, targets: object, title: object) -> tuple[LiveView, str]:
        """Open a session; return it and its ingest URL. 403 without `live`, 409 while another is on air."""
        users.require(actor, "live")
        if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
            raise ValidationFailed(
                f"Tên phiên phát trực tiếp phải dài 1–{MAX_TITLE} ký tự. "
                "Hãy nhập một tên ngắn, ví dụ «Họp khẩn»."
            )
        now = self._clock()
        with self._db.session() as session:
            busy = session.execute(
                select(LiveSession, User.username)
                .join(User, User.id == LiveSession.user_id)
                .where(LiveSession.state != "ended", LiveSession.commune_id == actor.commune_id)
            ).first()
            if busy is not None:
                row, who = busy
                since = (row.started_at or row.created_at).astimezone(VIETNAM)
                raise LiveBusy(
                    f"{who} đang phát trực tiếp «{row.title}» từ {since:%H:%M} ngày {since:%d/%m/%Y}. "
                    "Hãy chờ phiên đó kết thúc hoặc liên hệ người đang phát."
                )
            wanted, devices = _targets(session, actor, targets)
            if not devices:
                raise ValidationFailed(
                    "Nơi đã chọn chưa có cụm loa nào đang hoạt động. Hãy chọn thôn/bản khác hoặc toàn xã."
                )
            row = LiveSession(
                id=secrets.token_hex(8), commune_id=actor.commune_id, user_id=actor.id, title=title.strip(),
                targets=wanted, devices=devices, state="pending" if self.two_person else "waiting",
                created_at=now,
            )  # fmt: skip
            session.add(row)
            session.flush()
            view = _view(row, actor.username)
        try:
            ingest = self.desk.open(view.id, view.devices, confirmed=not self.two_person)
        except Exception:  # no mount: the row must not block the commune's next session
            with self._db.session() as session:
                row = self._row(session, view.id)
                row.state, row.ended_at, row.end_reason = "ended", self._clock(), "error"
            raise
        self._ingest[view.id] = ingest
        log.info("live session %s opened by %s for %d devices", view.id, actor.username, len(devices))
        return view, ingest

    def confirm(self, actor: UserView, session_id: str) -> LiveView:
        """The second person (two-person rule) lets a pending session go on air."""
        users.require(actor, "live")
        with self._db.session() as session:
            row = self._row(session, session_id)
            if row.state != "pending":
                raise Conflict(f"live session {session_id} is {row.state}, not pending")
            if row.user_id == actor.id:
                raise Forbidden("live: a second person must confirm a live session (LOAXA_LIVE_TWO_PERSON)")
            row.state = "waiting"
        self.desk.confirm(session_id)
        return self.get(actor, session_id)

    def end(self, actor: UserView, session_id: str) -> LiveView:
        """End a session on every agent (the speaker, or anyone with `live`)."""
        users.require(actor, "live")
        with self._db.session() as session:
            self._row(session, session_id)
        self.desk.end(session_id, "ended")
        with self._db.session() as session:
            row = self._row(session, session_id)
            if row.state != "ended":  # the desk was not watching it (a restart): close the row
                row.state, row.ended_at, row.end_reason = "ended", self._clock(), "ended"
        return self.get(actor, session_id)

    def ingest_url(self, session_id: str) -> str | None:
        """The ingest URL of an open session (for the browser's chunk pipe)."""
        return self._ingest.get(session_id) if self.desk.is_open(session_id) else None

    def get(self, actor: UserView, session_id: str) -> LiveView:
        """One session."""
        with self._db.session() as session:
            row = self._row(session, session_id)
            if actor.commune_id is not None and row.commune_id != actor.commune_id:
                raise NotFound(f"no live session {session_id}")
            return _view(row, session.get_one(User, row.user_id).username)

    def list(self, actor: UserView, limit: int = 50) -> list[LiveView]:
        """Newest sessions first."""
        with self._db.session() as session:
            query = (
                select(LiveSession, User.username)
                .join(User, User.id == LiveSession.user_id)
                .order_by(LiveSession.created_at.desc())
                .limit(min(max(limit, 1), 200))
            )
            if actor.commune_id is not None:
                query = query.where(LiveSession.commune_id == actor.commune_id)
            return [_view(row, who) for row, who in session.execute(query)]

    @staticmethod
    def _row(session: Session, session_id: str) -> LiveSession:
        row = session.get(LiveSession, session_id)
        if row is None:
            raise NotFound(f"no live session {session_id}")
        return row

    # -- the desk's reports ---------------------------------------------------------------------------

    def _on_air(self, session_id: str, at: datetime) -> None:
        with self._db.session() as session:
            row = self._row(session, session_id)
            row.state, row.started_at = "on_air", at

    def _on_ended(self, session_id: str, reason: str, at: datetime, recording: bytes) -> None:
        sha256 = None
        if recording:
            try:
                sha256 = self._store_recording(recording, "vi")
            except Exception:
                log.exception("live session %s: its recording could not be stored", session_id)
        self._ingest.pop(session_id, None)
        with self._db.session() as session:
            row = self._row(session, session_id)
            row.state, row.ended_at, row.end_reason, row.recording_sha256 = "ended", at, reason, sha256
