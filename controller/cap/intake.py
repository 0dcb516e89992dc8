"""The CAP inbound adapter: a pushed or polled document becomes a bulletin, a drill, a cancel, or a refusal.

Owns the order of the checks (DESIGN §12, docs/cap.md): parse safely, verify the signature where the source
signs, validate against the CAP 1.2 schema, the sender allow-list, duplicates (sender + identifier, once),
`references` for Update and Cancel, expiry, and the areas; then the source's policy. Every change goes
through controller.usecases (the one-step emergency, drafts for the inbox, cancel, drills) under the
`cap-system` accounts (one per commune); every refusal is counted and logged per source, and nothing of a
refused document plays. Must not speak HTTP to callers or write SQL itself.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from controller.cap import fetch, geo
from controller.cap.languages import village_language
from controller.cap.model import Alert, CapRejected, Info, Resource
from controller.cap.parse import check_schema, parse_xml, read_alert
from controller.cap.policy import Policy, decide
from controller.cap.signature import verify_signed
from controller.db import Database
from controller.services import cap_sources as sources
from controller.services import cap_targets
from controller.services.errors import ServiceError
from controller.services.views import UserView
from controller.usecases import BulletinDraft, BulletinUseCases, DrillUseCases, Recording

log = logging.getLogger(__name__)

_LIVE = ("draft", "pending", "approved")
_AUDIO_PREFIX = "audio/"


@dataclass(frozen=True)
class Outcome:
    """What became of one document: accepted (with its action), a duplicate, ignored, or refused."""

    status: str  # accepted | duplicate | ignored | refused
    message: str
    action: str | None = None  # emergency | priority | inbox | drill | cancel | ignore
    reason: str | None = None
    bulletin_id: int | None = None
    drill_id: int | None = None
    cancelled: tuple[int, ...] = ()


class CapIntake:
    """Takes CAP documents in for the sources configured in the database."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        bulletins: BulletinUseCases,
        drills: DrillUseCases,
        *,
        get: fetch.Getter = fetch.http_get,
        timeout_s: float = 10.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._bulletins = bulletins
        self._drills = drills
        self._get = get
        self._timeout_s = timeout_s

    # -- entry points --------------------------------------------------------------------------------

    def poll(self, source_id: int, url: str) -> list[Outcome]:
        """Read a polled source's URL and take in every alert found there."""
        outcomes = []
        for found in fetch.poll(url, self._timeout_s, self._get):
            if found.problem is not None:
                outcomes.append(self._refuse(source_id, found.problem, found.where))
            elif found.data is not None:
                outcomes.append(self.receive(source_id, found.data, where=found.where))
        with self._db.session() as session:
            sources.mark_polled(session, source_id, self._clock())
        return outcomes

    def receive(self, source_id: int, data: bytes, *, where: str = "push") -> Outcome:
        """Take in one CAP document from a source (pushed, or found by a poll)."""
        try:
            with self._db.session() as session:
                checks = sources.source_checks(session, source_id)
            root = verify_signed(data, checks.certificate) if checks.certificate else parse_xml(data)
            check_schema(root)
            alert = read_alert(root)
            if alert.sender not in checks.senders:
                raise CapRejected(
                    "unknown_sender",
                    f"Bên gửi {alert.sender[:100]!r} không có trong danh sách được phép của nguồn; "
                    "quản trị viên thêm vào nếu tin cậy.",
                )
            outcome = self._take(source_id, checks.policy, alert)
        except CapRejected as problem:
            return self._refuse(source_id, problem, where)
        log.info(
            "CAP source %s: %s %s/%s: %s (%s)", source_id, outcome.status, alert.sender, alert.identifier,
            outcome.action, outcome.message,
        )  # fmt: skip
        return outcome

    # -- steps -----------------------------------------------------------------------------------------

    def _refuse(self, source_id: int, problem: CapRejected, where: str) -> Outcome:
        with self._db.session() as session:
            sources.count_refusal(
                session, source_id, self._clock(), reason=problem.reason, message=problem.message, where=where
            )
        return Outcome(status="refused", reason=problem.reason, message=problem.message)

    def _take(self, source_id: int, policy: Policy, alert: Alert) -> Outcome:
        """Claim the alert, act on it, then record what it became.

        The claim is the row of (sender, identifier), so of two copies arriving at once only one acts; a
        refusal after the claim releases it, so a corrected copy is taken in.
        """
        claim = self._claim(source_id, alert)
        if claim is None:
            return Outcome(status="duplicate", message="Cảnh báo này đã nhận trước đó; chỉ phát một lần.")
        try:
            outcome = self._act(policy, alert)
        except BaseException:
            with self._db.session() as session:
                sources.forget_alert(session, claim)
            raise
        with self._db.session() as session:
            sources.settle_alert(
                session, claim, action=outcome.action or "ignore", bulletin_id=outcome.bulletin_id
            )
            sources.count_accepted(session, source_id)
        return outcome

    def _claim(self, source_id: int, alert: Alert) -> int | None:
        with self._db.session() as session:
            try:
                return sources.remember_alert(
                    session, self._clock(), source_id=source_id, sender=alert.sender,
                    identifier=alert.identifier, sent=alert.sent, status=alert.status,
                    msg_type=alert.msg_type, action="pending", expires_at=alert.expires, bulletin_id=None,
                ).id  # fmt: skip
            except IntegrityError:  # taken in before, or by a concurrent intake this instant
                session.rollback()
                return None

    def _act(self, policy: Policy, alert: Alert) -> Outcome:
        now = self._clock()
        with self._db.session() as session:
            canceller = sources.system_actor(session, now)  # province-wide: may cancel any bulletin
        if alert.status in ("System", "Draft") or alert.msg_type in ("Ack", "Error"):
            return Outcome(
                status="ignored", action="ignore", message=f"{alert.status} {alert.msg_type}: không phát."
            )
        expires = alert.expires
        if (
            alert.msg_type != "Cancel" and expires is not None and expires <= now
        ):  # before it cancels anything
            raise CapRejected(
                "expired",
                f"Cảnh báo đã hết hạn lúc {expires.isoformat()}; cảnh báo hết hạn không bao giờ được phát.",
            )
        cancelled: tuple[int, ...] = ()
        if alert.msg_type in ("Update", "Cancel"):
            cancelled = self._follow_references(canceller, alert)
            if alert.msg_type == "Cancel":
                return Outcome(
                    status="accepted", action="cancel", cancelled=cancelled,
                    message=f"Đã huỷ bản tin {list(cancelled)}.",
                )  # fmt: skip
        villages = self._villages(alert)
        actor = self._writer(villages, now)
        if alert.status in ("Test", "Exercise"):
            return self._drill(actor, alert, villages, cancelled, policy.drill_volume)
        action = decide(policy, alert.infos)
        if action == "ignore":
            return Outcome(
                status="ignored", action="ignore", message="Chính sách của nguồn bỏ qua cảnh báo này."
            )
        info = _main_info(alert)
        title = (info.headline or info.event)[:200]
        text = _spoken_text(info)
        recordings = self._recordings(alert)
        targets = {"villages": villages}
        try:
            if action == "emergency":
                view = self._bulletins.broadcast_emergency(
                    actor, title=title, text=text, targets=targets, expires_at=expires, recordings=recordings
                )
            else:
                draft = BulletinDraft(
                    title=title, text=text, targets=targets, expires_at=expires,
                    priority="priority" if action == "priority" else "normal",
                )  # fmt: skip
                view = self._bulletins.create(actor, draft, recordings=recordings, submit=True)
        except ServiceError as exc:
            raise CapRejected("not_playable", f"Không tạo được bản tin từ cảnh báo: {exc.message}") from exc
        return Outcome(
            status="accepted", action=action, bulletin_id=view.id, cancelled=cancelled,
            message=f"Bản tin {view.id} ({view.status}) cho {len(villages)} thôn/bản.",
        )  # fmt: skip

    def _writer(self, villages: list[str], now: datetime) -> UserView:
        """The system account of the villages' commune, or the province-wide one when they span several."""
        with self._db.session() as session:
            communes = cap_targets.communes_of(session, villages)
            only = next(iter(communes)) if len(communes) == 1 else None
            return sources.system_actor(session, now, only)

    def _follow_references(self, actor: UserView, alert: Alert) -> tuple[int, ...]:
        """Cancel the live bulletins of the alerts an Update or Cancel refers to."""
        with self._db.session() as session:
            known = [sources.find_alert(session, sender, ident) for sender, ident, _ in alert.references]
        found = [record for record in known if record is not None]
        if not found:
            raise CapRejected(
                "unknown_reference",
                f"{alert.msg_type} này nhắc tới cảnh báo chưa từng nhận "
                f"({', '.join(i for _, i, _ in alert.references)[:200] or 'không ghi'}); không phát.",
            )
        cancelled = []
        for record in found:
            if record.bulletin_id is None:
                continue
            try:
                view = self._bulletins.cancel(actor, record.bulletin_id)
            except ServiceError as exc:  # already done, expired or cancelled: nothing left to stop
                log.info(
                    "CAP %s: bulletin %s not cancelled: %s", alert.msg_type, record.bulletin_id, exc.message
                )
                continue
            if view.status == "cancelled":
                cancelled.append(view.id)
        return tuple(cancelled)

    def _villages(self, alert: Alert) -> list[str]:
        areas = [area for info in alert.infos for area in info.areas]
        with self._db.session() as session:
            found = cap_targets.villages_under(session, geo.area_codes(areas))
            if any(area.polygons for area in areas):
                found |= geo.villages_in_polygons(areas, cap_targets.village_points(session))
            reachable = cap_targets.villages_with_devices(session, found)
        if not reachable:
            described = "; ".join(area.description for area in areas)[:200]
            raise CapRejected(
                "unknown_area",
                f"Không thôn/bản nào có cụm loa nằm trong vùng cảnh báo ({described}); geocode phải là "
                "mã VN-ADMIN của địa bàn trong loaxa, hoặc đa giác quanh thôn/bản có toạ độ.",
            )
        return reachable

    def _drill(
        self, actor: UserView, alert: Alert, villages: list[str], cancelled: tuple[int, ...], volume: int
    ) -> Outcome:
        info = _main_info(alert)
        try:
            drill_id, bulletin_id = self._drills.start(
                actor, targets={"villages": villages}, origin="cap", note=info.headline or info.event,
                volume=volume,
            )  # fmt: skip
        except ServiceError as exc:
            raise CapRejected("not_playable", f"Không chạy được buổi phát thử: {exc.message}") from exc
        return Outcome(
            status="accepted", action="drill", bulletin_id=bulletin_id, drill_id=drill_id,
            cancelled=cancelled,
            message=f"Phát thử {drill_id} ({alert.status}) ở {len(villages)} thôn/bản.",
        )  # fmt: skip

    def _recordings(self, alert: Alert) -> list[Recording]:
        """One verified audio resource per village language the alert speaks, if it attaches any."""
        chosen: dict[str, Recording] = {}
        for info in alert.infos:
            language = village_language(info.language)
            if language is None or language in chosen:
                continue
            for resource in info.resources:
                if resource.mime_type.startswith(_AUDIO_PREFIX):
                    data = self._resource_bytes(resource)
                    if data is not None:
                        chosen[language] = Recording(data=data, language=language)
                        break
        return list(chosen.values())

    def _resource_bytes(self, resource: Resource) -> bytes | None:
        """The resource's content when its SHA-1 digest (and size, if given) verify; else None (speech)."""
        data = resource.deref
        if data is None and resource.uri:
            try:
                data = self._get(resource.uri, self._timeout_s)
            except CapRejected as problem:
                log.warning("CAP audio %s not used: %s", resource.uri[:200], problem.message)
                return None
        if data is None or resource.digest is None:
            log.warning("CAP audio %r not used: no content or no digest to verify it", resource.description)
            return None
        actual = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        if actual != resource.digest or (resource.size is not None and resource.size != len(data)):
            log.warning("CAP audio %r not used: digest or size does not match", resource.description)
            return None
        return data


def _main_info(alert: Alert) -> Info:
    """The Vietnamese info block, else the first (CAP requires none; loaxa's speech is Vietnamese)."""
    if not alert.infos:
        raise CapRejected("not_playable", "Cảnh báo không có <info>: không có gì để đọc.")
    return next((i for i in alert.infos if village_language(i.language) == "vi"), alert.infos[0])


def _spoken_text(info: Info) -> str:
    """What the loudspeakers read: description, then instruction (the headline when both are empty)."""
    parts = [part for part in (info.description, info.instruction) if part]
    return "\n".join(parts) if parts else (info.headline or info.event)
