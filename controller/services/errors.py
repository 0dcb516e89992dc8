"""The exceptions every service raises; the web layer maps each to an HTTP status by `http_status`.

    ServiceError
    ├── ValidationFailed    422  input is wrong: says which value and what is allowed
    │   ├── AreaLevelMismatch     an area's level does not fit under its parent
    │   ├── ImportRejected        a CSV had bad rows (each with its line number)
    │   ├── UnknownTarget         a target names an area, village or cluster that does not exist
    │   ├── ReasonRequired        declining a bulletin from above needs a reason
    │   └── WrongPassword         the current password given to change it is wrong
    ├── NotFound            404  no such area, commune, village, device, user or bulletin
    ├── Conflict            409  the thing exists already
    │   ├── AreaExists            the area code is taken
    │   ├── AreaCycle             the move would put an area under itself
    │   ├── AreaRetired           nothing may go under a retired area
    │   └── AreaInUse             areas, clusters or bulletins still depend on the area
    ├── InvalidTransition   409  the bulletin's status does not allow this step
    ├── Forbidden           403  the user's role or ownership does not allow it
    │   ├── TargetOutOfScope      a target lies outside the user's area (`refused` names each)
    │   └── OutOfScope            the record or user lies outside the actor's area, or another level sent it
    └── AuthenticationFailed 401 wrong password, unknown, expired or revoked token, inactive user

Each error carries a `controller.i18n.Message` (or words already in Vietnamese): `message` is the
Vietnamese text, `message_in(locale)` the text in another catalogue's language (the API's `en`).
Owns the error types only; must not import the database or the web framework.
"""

from controller.i18n import DEFAULT_LOCALE, Text, render


class ServiceError(Exception):
    """Base class: `code` is a stable machine word, the message is for a person."""

    code = "error"
    http_status = 400

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.text = message
        self.message: str = render(message)

    def message_in(self, locale: str = DEFAULT_LOCALE) -> str:
        """The message in `locale` (Vietnamese unless the reader asked for another catalogue)."""
        return str(render(self.text, locale))

    @property
    def fields(self) -> dict[str, list[str]]:
        """Per input field, the values that were refused (empty unless a subclass names them)."""
        return {}


class ValidationFailed(ServiceError):
    """An input value is not acceptable."""

    code = "validation_failed"
    http_status = 422


class NotFound(ServiceError):
    """The named record does not exist."""

    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    """The record already exists or clashes with another one."""

    code = "conflict"
    http_status = 409


class InvalidTransition(ServiceError):
    """The record's current status does not allow the requested step."""

    code = "invalid_transition"
    http_status = 409


class Forbidden(ServiceError):
    """The acting user may not do this."""

    code = "forbidden"
    http_status = 403


class AuthenticationFailed(ServiceError):
    """The credentials or token are not valid."""

    code = "authentication_failed"
    http_status = 401


class AreaExists(Conflict):
    """An area with this code exists already."""

    code = "area_exists"


class AreaLevelMismatch(ValidationFailed):
    """The area's level does not fit under the chosen parent (a village under a district, say)."""

    code = "area_level_mismatch"


class AreaCycle(Conflict):
    """The move would put an area under itself or under one of its own descendants."""

    code = "area_cycle"


class AreaRetired(Conflict):
    """The area is retired: nothing new may be put under it."""

    code = "area_retired"


class AreaInUse(Conflict):
    """The area still has areas, clusters or bulletins that depend on it."""

    code = "area_in_use"


class ImportRejected(ValidationFailed):
    """A CSV file had bad rows; `problems` holds one line per bad row, with its line number."""

    code = "import_rejected"

    def __init__(self, message: Text, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class UnknownTarget(ValidationFailed):
    """A target names an area, village or cluster that does not exist."""

    code = "unknown_target"


class ReasonRequired(ValidationFailed):
    """A decline (or reject) needs a reason that goes back to the sender."""

    code = "reason_required"


class TargetOutOfScope(Forbidden):
    """A target lies outside the sender's area; `refused` names each refused id or code."""

    code = "target_out_of_scope"

    def __init__(self, message: str, refused: list[str]) -> None:
        super().__init__(message)
        self.refused = refused

    @property
    def fields(self) -> dict[str, list[str]]:
        """The refused targets, under `targets`."""
        return {"targets": list(self.refused)}


class OutOfScope(Forbidden):
    """The record or user lies outside the actor's area, or (approving) was sent from another level."""

    code = "out_of_scope"


class WrongPassword(ValidationFailed):
    """The current password, given to set a new one, is wrong (the token itself is fine: not a 401)."""

    code = "wrong_password"
