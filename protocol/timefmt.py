"""UTC timestamps on the wire: ISO 8601 with a trailing ``Z`` (DESIGN §5)."""

from datetime import UTC, datetime

from protocol.errors import ProtocolError


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with ``Z`` and millisecond precision."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """Parse a wire timestamp; it must carry ``Z`` or an explicit offset."""
    if not isinstance(text, str):
        raise ProtocolError("bad_field", f"timestamp must be a string, got {type(text).__name__}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProtocolError("bad_field", f"not an ISO 8601 timestamp: {text!r}") from exc
    if moment.tzinfo is None:
        raise ProtocolError("bad_field", f"timestamp without time zone: {text!r} (end it with Z)")
    return moment.astimezone(UTC)
