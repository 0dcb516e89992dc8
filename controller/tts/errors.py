"""The errors text to speech raises, each one a person can act on.

TtsError
 ├── TextRejected(ValueError)       the bulletin text cannot be read (empty, too long)
 ├── RecordingRejected(ValueError)  an uploaded recording cannot be used (unreadable, silent, too long)
 ├── EngineUnavailable              one engine could not synthesize (offline, missing program, timeout)
 └── NoEngineAvailable              every engine in the chain failed
 AudioProcessingError               ffmpeg failed on audio we produced ourselves (a bug or a broken install)
Each carries a `controller.i18n.Message`: `str(error)` is the Vietnamese text a person reads, with no
internal detail (paths, a program's stderr), which goes to the log where the error is raised.
Owns no logic.
"""

from controller.i18n import DEFAULT_LOCALE, Text, render


class TtsError(Exception):
    """Base of every error in controller.tts."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(render(message)))
        self.text = message

    def message_in(self, locale: str = DEFAULT_LOCALE) -> str:
        """The message in `locale` (Vietnamese unless the reader asked for another catalogue)."""
        return str(render(self.text, locale))


class TextRejected(TtsError, ValueError):
    """The bulletin text cannot be read aloud; the message says why and what to do."""


class RecordingRejected(TtsError, ValueError):
    """An uploaded or recorded file cannot be broadcast; the message says why and what to do."""


class EngineUnavailable(TtsError):
    """One synthesizer could not produce audio; the chain moves on to the next."""


class NoEngineAvailable(TtsError):
    """Every synthesizer in the chain failed; the message lists each engine's reason."""


class AudioProcessingError(TtsError):
    """ffmpeg failed on audio we produced ourselves."""
