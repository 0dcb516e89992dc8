"""CAP alert sources (DESIGN §12): their settings, push tokens, counters and the alerts they sent.

Owns cap_sources and cap_alerts rows: creating a source (name, optional URL, sender allow-list, signing
certificate, policy), finding one by push token, counting what it sent (accepted, refused by reason) with
its newest refusals, remembering each alert once per (sender, identifier), and the system account CAP
bulletins are written under. Must not parse CAP, fetch, commit or know HTTP.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.cap.policy import DEFAULT_POLICY, Policy
from controller.db.models import CapAlert, CapSource, User
from controller.services.audit import write_audit
from controller.services.errors import Conflict, NotFound, ValidationFailed
from controller.services.users import view_of
from controller.services.views import UserView

log = logging.getLogger(__name__)

#: The account CAP bulletins and drills from CAP are written and approved under (it cannot sign in).
SYSTEM_USERNAME: Final = "cap-system"
#: Never matches an argon2 hash (argon2 refuses it as invalid), so nobody can sign in as `cap-system`.
UNUSABLE_HASH: Final = "!"
MAX_LAST_ERRORS: Final = 20
MAX_SENDERS: Final = 50


@dataclass(frozen=True)
class SourceView:
    """A CAP source as its page shows it: settings, counters and the newest refusals."""

    id: int
    name: str
    url: str | None
    senders: tuple[str, ...]
    signed: bool
    policy: Policy
    counters: dict[str, int]
    last_errors: tuple[dict[str, str], ...]
    created_at: datetime
    last_polled_at: datetime | None

    @property
    def certificate_required(self) -> bool:
        """Whether every alert from this source must carry a verifying XML signature."""
        return self.signed


@dataclass(frozen=True)
class SourceChecks:
    """What the intake needs to check a document from a source."""

    id: int
    senders: frozenset[str]
    certificate: str | None
    policy: Policy


@dataclass(frozen=True)
class AlertRecord:
    """An alert loaxa has taken in before, and what it became."""

    id: int
    sender: str
    identifier: str
    status: str
    msg_type: str
    action: str
    bulletin_id: int | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(row: CapSource) -> SourceView:
    return SourceView(
        id=row.id, name=row.name, url=row.url, senders=tuple(row.senders), signed=row.certificate is not None,
        policy=Policy.model_validate(row.policy), counters=dict(row.counters),
        last_errors=tuple(row.last_errors.get("items", [])), created_at=row.created_at,
        last_polled_at=row.last_polled_at,
    )  # fmt: skip


def check_policy(policy: object) -> Policy:
    """A policy from JSON, or ValidationFailed saying which field is wrong."""
    if policy is None:
        return DEFAULT_POLICY
    try:
        return Policy.model_validate(policy)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "policy"
        words = _POLICY_PROBLEMS.get(first["type"], "giá trị không dùng được")
        problem = words.format(**first.get("ctx", {}))
        raise ValidationFailed(
            f"Chính sách (policy.{where}) không hợp lệ: {problem}; xem cách viết trong docs/cap.md."
        ) from exc


#: Pydantic's error types in a policy, in words (the rest: "giá trị không dùng được").
_POLICY_PROBLEMS: Final = {
    "int_type": "phải là số nguyên",
    "greater_than_equal": "phải từ {ge} trở lên",
    "less_than_equal": "phải từ {le} trở xuống",
    "literal_error": "không phải giá trị CAP được nhận (xem bảng trong docs/cap.md)",
    "extra_forbidden": "không có mục này",
    "missing": "thiếu mục này",
    "list_type": "phải là một danh sách",
    "too_long": "danh sách quá dài (tối đa {max_length})",
}


def _check_certificate(certificate: str | None) -> str | None:
    if certificate is None:
        return None
    try:
        x509.load_pem_x509_certificate(certificate.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValidationFailed(
            "Chứng thư không phải PEM X.509; dán chứng thư ký số của nguồn (-----BEGIN CERTIFICATE----- ...)."
        ) from exc
    return certificate


def _check_senders(senders: list[str]) -> list[str]:
    cleaned = [s.strip() for s in senders if s.strip()]
    if not cleaned or len(cleaned) > MAX_SENDERS:
        raise ValidationFailed(
            f"Danh sách bên gửi cần 1–{MAX_SENDERS} mã <sender> CAP mà nguồn được dùng "
            "(ví dụ 'canhbao@yenbai.gov.vn')."
        )
    bad = [s for s in cleaned if any(c in s for c in " ,<&") or len(s) > 255]
    if bad:
        raise ValidationFailed(
            f"Bên gửi {bad[0][:60]!r} không phải mã <sender> CAP (không dấu cách, dấu phẩy, < hay &)."
        )
    return cleaned


def create_source(
    session: Session,
    now: datetime,
    *,
    name: str,
    url: str | None,
    senders: list[str],
    certificate: str | None,
    policy: object,
    actor: str,
) -> tuple[SourceView, str]:
    """Create a source; returns it and its push token, which is shown this once and stored as a hash."""
    clean_name = name.strip()
    if not clean_name or len(clean_name) > 200:
        raise ValidationFailed("Tên nguồn cần 1–200 ký tự, ví dụ 'Đài KTTV Yên Bái'.")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValidationFailed(
            f"Địa chỉ {url[:80]!r} phải bắt đầu bằng http:// hoặc https://, "
            "hoặc bỏ trống nếu nguồn tự gửi tới."
        )
    if session.scalar(select(CapSource.id).where(CapSource.name == clean_name)) is not None:
        raise Conflict(f"Đã có nguồn CAP tên {clean_name!r}; chọn tên khác.")
    token = secrets.token_urlsafe(32)
    row = CapSource(
        name=clean_name, url=url, senders=_check_senders(senders),
        certificate=_check_certificate(certificate),
        policy=check_policy(policy).model_dump(mode="json"), push_token_sha256=_hash(token),
        counters={"accepted": 0, "refused": 0}, last_errors={"items": []}, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    write_audit(
        session, now, actor=actor, action="cap_source.create", entity="cap_source", entity_id=row.id,
        detail={"name": clean_name, "url": url, "senders": row.senders, "signed": certificate is not None},
    )  # fmt: skip
    log.info("CAP source %s (%r) created by %s", row.id, clean_name, actor)
    return _view(row), token


def get_source(session: Session, source_id: int) -> SourceView:
    """One source with its counters and newest refusals."""
    row = session.get(CapSource, source_id)
    if row is None:
        raise NotFound(f"Không có nguồn CAP số {source_id}; xem danh sách nguồn.")
    return _view(row)


def list_sources(session: Session) -> list[SourceView]:
    """Every source, by id."""
    return [_view(row) for row in session.scalars(select(CapSource).order_by(CapSource.id))]


def polled_sources(session: Session) -> list[tuple[int, str]]:
    """(id, url) of every source loaxa polls."""
    query = select(CapSource.id, CapSource.url).where(CapSource.url.is_not(None)).order_by(CapSource.id)
    return [(source_id, url) for source_id, url in session.execute(query) if url is not None]


def source_checks(session: Session, source_id: int) -> SourceChecks:
    """The allow-list, certificate and policy of a source."""
    row = session.get(CapSource, source_id)
    if row is None:
        raise NotFound(f"Không có nguồn CAP số {source_id}; xem danh sách nguồn.")
    return SourceChecks(
        id=row.id, senders=frozenset(row.senders), certificate=row.certificate,
        policy=Policy.model_validate(row.policy),
    )  # fmt: skip


def source_for_push_token(session: Session, source_id: int, token: str) -> int | None:
    """The source's id when `token` is its push token, else None."""
    row = session.get(CapSource, source_id)
    if row is None or not secrets.compare_digest(row.push_token_sha256, _hash(token)):
        return None
    return row.id


def _locked(session: Session, source_id: int) -> CapSource:
    row = session.scalars(select(CapSource).where(CapSource.id == source_id).with_for_update()).one_or_none()
    if row is None:
        raise NotFound(f"Không có nguồn CAP số {source_id}; xem danh sách nguồn.")
    return row


def count_refusal(
    session: Session, source_id: int, now: datetime, *, reason: str, message: str, where: str = ""
) -> None:
    """Count a refused document or fetch by reason and keep it among the source's newest refusals."""
    row = _locked(session, source_id)
    counters: dict[str, Any] = dict(row.counters)
    counters["refused"] = int(counters.get("refused", 0)) + 1
    counters[reason] = int(counters.get(reason, 0)) + 1
    entry = {"at": now.isoformat(), "reason": reason, "message": message[:500], "where": where[:300]}
    items = [entry, *row.last_errors.get("items", [])][:MAX_LAST_ERRORS]
    row.counters, row.last_errors = counters, {"items": items}
    log.warning("CAP source %s: refused (%s) %s %s", source_id, reason, where, message[:300])


def count_accepted(session: Session, source_id: int) -> None:
    """Count an alert the source sent that loaxa took in."""
    row = _locked(session, source_id)
    row.counters = {**row.counters, "accepted": int(row.counters.get("accepted", 0)) + 1}


def mark_polled(session: Session, source_id: int, now: datetime) -> None:
    """Remember when the source's URL was last read."""
    _locked(session, source_id).last_polled_at = now


def _record(row: CapAlert) -> AlertRecord:
    return AlertRecord(
        id=row.id, sender=row.sender, identifier=row.identifier, status=row.status, msg_type=row.msg_type,
        action=row.action, bulletin_id=row.bulletin_id,
    )  # fmt: skip


def find_alert(session: Session, sender: str, identifier: str) -> AlertRecord | None:
    """The alert taken in before with this sender and identifier, if any."""
    row = session.scalar(select(CapAlert).where(CapAlert.sender == sender, CapAlert.identifier == identifier))
    return None if row is None else _record(row)


def remember_alert(
    session: Session,
    now: datetime,
    *,
    source_id: int,
    sender: str,
    identifier: str,
    sent: datetime,
    status: str,
    msg_type: str,
    action: str,
    expires_at: datetime | None,
    bulletin_id: int | None,
) -> AlertRecord:
    """Store an alert taken in (once per sender and identifier) and what it became."""
    row = CapAlert(
        source_id=source_id, sender=sender, identifier=identifier, sent=sent, status=status,
        msg_type=msg_type, action=action, expires_at=expires_at, bulletin_id=bulletin_id, received_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return _record(row)


def settle_alert(session: Session, alert_id: int, *, action: str, bulletin_id: int | None) -> None:
    """Record what a claimed alert became."""
    row = session.get(CapAlert, alert_id)
    if row is None:
        raise NotFound(f"Không có cảnh báo đã nhận số {alert_id}.")
    row.action, row.bulletin_id = action, bulletin_id


def forget_alert(session: Session, alert_id: int) -> None:
    """Release a claimed alert that was refused after all (a corrected copy may then be taken in)."""
    row = session.get(CapAlert, alert_id)
    if row is not None:
        session.delete(row)


def recent_alerts(session: Session, source_id: int, limit: int = 20) -> list[AlertRecord]:
    """The newest alerts a source sent."""
    query = select(CapAlert).where(CapAlert.source_id == source_id).order_by(CapAlert.id.desc()).limit(limit)
    return [_record(row) for row in session.scalars(query)]


def system_username(commune_id: str | None) -> str:
    """`cap-system` for alerts over several communes, `cap-system.<commune>` for one commune's."""
    return SYSTEM_USERNAME if commune_id is None else f"{SYSTEM_USERNAME}.{commune_id}"[:64]


def system_actor(session: Session, now: datetime, commune_id: str | None = None) -> UserView:
    """The account CAP bulletins are written under, created on first use; nobody can sign in as it.

    One per commune, so a commune's alerts land among that commune's bulletins (its operators and approvers
    see and approve them); `cap-system` (no commune) writes alerts that span several communes and cancels.
    An admin: it writes, approves (emergencies only, through the one-step path) and cancels what CAP asks.
    """
    username = system_username(commune_id)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username, password_hash=UNUSABLE_HASH, role="admin", commune_id=commune_id,
            active=True, created_at=now,
        )  # fmt: skip
        session.add(user)
        session.flush()
        write_audit(
            session, now, actor=None, action="user.create", entity="user", entity_id=user.id,
            detail={"username": username, "role": "admin", "why": "CAP alerts and drills"},
        )  # fmt: skip
    return view_of(user)


def system_user_ids(session: Session) -> set[int]:
    """The ids of every CAP system account."""
    query = select(User.id).where(
        (User.username == SYSTEM_USERNAME) | User.username.startswith(f"{SYSTEM_USERNAME}.")
    )
    return set(session.scalars(query))
