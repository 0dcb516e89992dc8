"""Bulletin use cases: write, edit, submit, approve, reject, cancel, and the one-step emergency broadcast.

Each runs the rules of controller.services in one transaction and announces the change after the commit.
Every caller (REST, UI, CAP feeds) goes through here, so the area scope check (DESIGN §11: a user acts
only on bulletins under their area; targets are checked by the services) and the emergency rule
(DESIGN §7, docs/security.md) hold the same way everywhere.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from controller import services
from controller.db import Database
from controller.i18n import Message
from controller.planning import Schedule
from controller.services.audit import write_audit
from controller.services.bulletin_edit import edit_bulletin
from controller.services.errors import NotFound
from controller.services.relay_slots import BadRelaySource, create_relay_slot
from controller.services.scope import sees_bulletin
from controller.services.views import BulletinView, UserView
from controller.usecases._announce import Announcer

log = logging.getLogger(__name__)

#: `store_recording(data, language)` → sha256 of the loudness-normalized MP3, stored and registered.
StoreRecording = Callable[[bytes, str], str]


@dataclass(frozen=True)
class Recording:
    """An uploaded or recorded audio version of a bulletin, in one language (e.g. thai, mong, dao)."""

    data: bytes
    language: str


@dataclass(frozen=True)
class BulletinDraft:
    """What a person (or an adapter) asks to broadcast; the services check every field."""

    title: str
    text: str | None
    targets: object
    priority: str = "normal"
    schedule: object = None
    expires_at: datetime | None = None
    source: object = None  # a relay slot: {"kind": "relay", "station": ID, "duration_s": N}, no text


class BulletinUseCases:
    """The bulletin workflow as committed, announced steps."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        announcer: Announcer,
        *,
        windows: Callable[[], Schedule | None] = lambda: None,
        store_recording: StoreRecording | None = None,
        two_person_emergency: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self._announce = announcer
        self._windows = windows
        self._store_recording = store_recording
        self.two_person_emergency = two_person_emergency

    def create(
        self,
        actor: UserView,
        draft: BulletinDraft,
        *,
        recording: Recording | None = None,
        recordings: Sequence[Recording] = (),
        submit: bool = False,
    ) -> BulletinView:
        """Write a draft (with its recordings, one per language), and submit it for approval when asked."""
        stored = self._store_all([*([recording] if recording is not None else []), *recordings])
        with self._db.session() as session:
            now = self._clock()
            view = self._create(session, actor, now, draft)
            view = self._attach(session, view, now, actor, stored)
            if submit:
                view = services.submit(session, view.id, actor, now)
        self._announce.bulletin(view.id)
        return view

    def edit(self, actor: UserView, bulletin_id: int, changes: Mapping[str, Any]) -> BulletinView:
        """Change title, text, targets or schedule; an approved bulletin goes back for approval."""
        with self._db.session() as session:
            self._in_scope(session, actor, bulletin_id)
            view = edit_bulletin(
                session, bulletin_id, actor, self._clock(), changes=dict(changes), windows=self._windows()
            )
        self._announce.bulletin(view.id)
        return view

    def submit(self, actor: UserView, bulletin_id: int) -> BulletinView:
        """Draft → pending."""
        return self._step(actor, bulletin_id, lambda s, now: services.submit(s, bulletin_id, actor, now))

    def approve(self, actor: UserView, bulletin_id: int) -> BulletinView:
        """Pending → approved (never by its author; an emergency may need two approvers)."""
        return self._step(
            actor,
            bulletin_id,
            lambda s, now: services.approve(
                s, bulletin_id, actor, now, two_person_emergency=self.two_person_emergency
            ),
        )

    def reject(self, actor: UserView, bulletin_id: int, reason: str) -> BulletinView:
        """Pending → rejected, with the reason its author will read."""
        return self._step(
            actor, bulletin_id, lambda s, now: services.reject(s, bulletin_id, actor, now, reason)
        )

    def cancel(self, actor: UserView, bulletin_id: int) -> BulletinView:
        """Draft, pending or approved → cancelled; a cancelled emergency is stopped on the speakers."""
        return self._step(actor, bulletin_id, lambda s, now: services.cancel(s, bulletin_id, actor, now))

    def broadcast_emergency(
        self,
        actor: UserView,
        *,
        title: str,
        text: str,
        targets: object,
        expires_at: datetime | None = None,
        recordings: Sequence[Recording] = (),
        along: Callable[[Session, datetime, int], None] | None = None,
    ) -> BulletinView:
        """Write, submit and approve an emergency in one step: it plays at once on every target.

        `recordings` are versions in the villages' languages (an inbound CAP alert's audio); `expires_at`
        ends it early (a CAP alert's expiry). `along(session, now, bulletin_id)` writes in the same
        transaction, before it goes on air (a drill records itself, so the first dispatch sees its volume).

        Who may: holders of `emergency.broadcast` (approvers and admins). Under the two-person rule
        (`LOAXA_EMERGENCY_TWO_PERSON`) this is the first approval and a second approver must confirm;
        otherwise it goes on air on one person's word, which is logged at WARNING and audited as
        `bulletin.emergency_one_person` so that it can be reviewed (a flash flood at night cannot wait).
        """
        services.require(actor, "emergency.broadcast")
        draft = BulletinDraft(
            title=title, text=text, targets=targets, priority="emergency", expires_at=expires_at
        )
        stored = self._store_all(recordings)
        with self._db.session() as session:
            now = self._clock()
            view = self._create(session, actor, now, draft, permission="emergency.broadcast")
            view = self._attach(session, view, now, actor, stored)
            services.submit(session, view.id, actor, now, permission="emergency.broadcast")
            view = services.approve(
                session, view.id, actor, now, allow_self_approval=True,
                two_person_emergency=self.two_person_emergency,
            )  # fmt: skip
            if along is not None:
                along(session, now, view.id)
            if view.status == "approved":
                write_audit(
                    session, now, actor=actor.username, action="bulletin.emergency_one_person",
                    entity="bulletin", entity_id=view.id, detail={"targets": view.targets},
                )  # fmt: skip
        if view.status == "approved":
            log.warning(
                "emergency bulletin %s put on air by %s alone (one-person emergency; review it)",
                view.id, actor.username,
            )  # fmt: skip
        self._announce.bulletin(view.id)
        return view

    # -- steps ------------------------------------------------------------------------------------------

    def _create(
        self,
        session: Session,
        actor: UserView,
        now: datetime,
        draft: BulletinDraft,
        *,
        permission: str = "bulletin.create",
    ) -> BulletinView:
        if draft.source is not None:
            if draft.text:
                raise BadRelaySource(
                    "lượt tiếp sóng không có nội dung đọc: bỏ trường text, máy sẽ tự đọc lời chờ khi mất sóng"
                )
            return create_relay_slot(
                session, actor, now, title=draft.title, source=draft.source, priority=draft.priority,
                targets=draft.targets, schedule=draft.schedule, windows=self._windows(),
            )  # fmt: skip
        return services.create_bulletin(
            session, actor, now, title=draft.title, text=draft.text or "", priority=draft.priority,
            targets=draft.targets, schedule=draft.schedule, expires_at=draft.expires_at,
            windows=self._windows(), permission=permission,
        )  # fmt: skip

    def _step(
        self, actor: UserView, bulletin_id: int, step: Callable[[Session, datetime], BulletinView]
    ) -> BulletinView:
        with self._db.session() as session:
            self._in_scope(session, actor, bulletin_id)
            view = step(session, self._clock())
        self._announce.bulletin(view.id)
        return view

    @staticmethod
    def _in_scope(session: Session, actor: UserView, bulletin_id: int) -> None:
        """A user acts only on bulletins under their area (DESIGN §11); others look like none."""
        services.get_bulletin(session, bulletin_id)  # NotFound first, for an id that does not exist
        if not sees_bulletin(session, services.scope_of(session, actor), bulletin_id):
            raise NotFound(f"Không có bản tin #{bulletin_id} trong địa bàn của bạn.")

    def _store_all(self, recordings: Sequence[Recording]) -> list[tuple[str, str]]:
        """(language, sha256) of each recording, stored before the transaction opens (encoding is slow)."""
        return [(recording.language, self._store(recording)) for recording in recordings]

    @staticmethod
    def _attach(
        session: Session, view: BulletinView, now: datetime, actor: UserView, stored: list[tuple[str, str]]
    ) -> BulletinView:
        for language, sha256 in stored:
            view = services.attach_audio(
                session, view.id, now, language=language, kind="recorded", asset_sha256=sha256, actor=actor
            )
        return view

    def _store(self, recording: Recording) -> str:
        if self._store_recording is None:
            raise RecordingsUnavailable(
                Message(
                    "This controller cannot store recordings. Send the bulletin as text to be read aloud."
                )
            )
        return self._store_recording(recording.data, recording.language)


class RecordingsUnavailable(Exception):
    """Raised when this deployment stores no recordings (a test app, a controller without audio tools)."""
