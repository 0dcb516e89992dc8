"""The one exception the protocol layer raises: a message that must be rejected, with its reason."""


class ProtocolError(ValueError):
    """A message is malformed, foreign, replayed or badly signed.

    `reason` is a short machine-readable word used to count rejections (e.g. ``bad_json``,
    ``bad_signature``, ``replayed``); the message says what was wrong for a person reading the log.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
