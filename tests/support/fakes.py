"""Fakes of our ports for unit tests (the same contract tests run them beside the real adapters)."""

from collections.abc import Sequence


class RecordingPublisher:
    """The dispatcher's Publisher port: keeps what would be published, and says the broker took it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bool]] = []

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout: float | None = 5.0
    ) -> bool:
        self.sent.append((topic, payload, retain))
        return True

    def publish_many(
        self, messages: Sequence[tuple[str, bytes, bool]], *, timeout: float = 5.0
    ) -> list[bool]:
        self.sent.extend(messages)
        return [True] * len(messages)
