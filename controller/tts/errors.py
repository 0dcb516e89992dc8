"""The errors text to speech raises, each one a person can act on.

TtsError
 ├── TextRejected(ValueError)       the bulletin text cannot be read (empty, too long)
 ├── RecordingRejected(ValueError)  an uploaded recording cannot be used (unreadable, silent, too long)
 ├── EngineUnavailable              one engine could not synthesize (offline, missing program, timeout)
 └── NoEngineAvailable              every engine in the chain failed
 AudioProcessingError               ffmpeg failed on audio we produced ourselves (a bug or a broken install)
Owns no logic.
"""


class TtsError(Exception):
    """Base of every error in controller.tts."""


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
