"""Strict readers for JSON objects: each message validates at the edge, then is a frozen dataclass."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from protocol.errors import ProtocolError
from protocol.timefmt import parse_utc

_MISSING: Any = object()


class Fields:
    """Reads typed fields out of one JSON object and refuses fields it does not know."""

    def __init__(self, data: object, what: str, *, allow_extra: bool = False) -> None:
        if not isinstance(data, Mapping):
            raise ProtocolError("bad_shape", f"{what} must be a JSON object, got {type(data).__name__}")
        self._data: Mapping[str, Any] = data
        self._what = what
        # The fields asked about, for done(); not needed when unknown fields are allowed.
        self._seen: set[str] | None = None if allow_extra else set()

    def _get(self, key: str, default: object, required: bool) -> Any:
        if self._seen is not None:
            self._seen.add(key)
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                raise ProtocolError("bad_field", f"{self._what}: missing field {key!r}")
            return default
        return value

    def _fail(self, key: str, expected: str, value: object) -> ProtocolError:
        return ProtocolError("bad_field", f"{self._what}.{key}: expected {expected}, got {value!r:.80}")

    def text(self, key: str, *, default: str | None = None, required: bool = True, max_len: int = 512) -> str:
        """A string field, at most `max_len` characters."""
        value = self._get(key, default, required)
        if not isinstance(value, str) or len(value) > max_len:
            raise self._fail(key, f"a string of at most {max_len} characters", value)
        return value

    def opt_str(self, key: str, *, max_len: int = 512) -> str | None:
        """A string field that may be absent or null."""
        value = self._get(key, None, False)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > max_len:
            raise self._fail(key, f"a string of at most {max_len} characters or null", value)
        return value

    def integer(
        self, key: str, *, default: int | None = None, required: bool = True, minimum: int = 0
    ) -> int:
        """An integer field (booleans are not integers here)."""
        value = self._get(key, default, required)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._fail(key, f"an integer ≥ {minimum}", value)
        return value

    def opt_number(self, key: str) -> float | None:
        """A number that may be absent or null."""
        value = self._get(key, None, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number or null", value)
        return float(value)

    def flag(self, key: str, *, default: bool | None = None, required: bool = True) -> bool:
        """A boolean field."""
        value = self._get(key, default, required)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def time(self, key: str, *, required: bool = True) -> datetime:
        """A UTC timestamp field."""
        return parse_utc(self._get(key, None, required))

    def opt_time(self, key: str) -> datetime | None:
        """A UTC timestamp that may be absent or null."""
        value = self._get(key, None, False)
        return None if value is None else parse_utc(value)

    def choice(self, key: str, options: tuple[str, ...], *, default: str | None = None) -> str:
        """A string that must be one of `options`."""
        value = self._get(key, default, default is None)
        if value not in options:
            raise self._fail(key, f"one of {', '.join(options)}", value)
        return str(value)

    def obj(self, key: str, *, required: bool = True) -> Mapping[str, Any]:
        """A nested JSON object (validated by its own reader)."""
        value = self._get(key, {}, required)
        if not isinstance(value, Mapping):
            raise self._fail(key, "an object", value)
        return value

    def array(self, key: str, *, max_items: int = 1000) -> list[Any]:
        """A JSON array of at most `max_items` entries."""
        value = self._get(key, [], False)
        if not isinstance(value, list) or len(value) > max_items:
            raise self._fail(key, f"an array of at most {max_items} entries", value)
        return value

    def raw(self, key: str) -> Any:
        """Any JSON value, taken as it is (for free-form sub-objects such as `net`)."""
        return self._get(key, None, False)

    def done(self) -> None:
        """Refuse fields this reader was not asked about (extra="forbid")."""
        if self._seen is None:
            return
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise ProtocolError("bad_field", f"{self._what}: unknown field(s) {', '.join(unknown)}")
