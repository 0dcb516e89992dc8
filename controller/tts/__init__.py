"""Text to speech: Vietnamese bulletin text or an uploaded recording → a loudness-normalized MP3 asset.

The public API is re-exported here; `normalize`, `engines`, `audio`, `lexicon` and `cache` are the steps.
"""

from controller.tts.engines import EspeakNg, Gtts, Synthesizer, build_engines
from controller.tts.errors import (
    AudioProcessingError,
    EngineUnavailable,
    NoEngineAvailable,
    RecordingRejected,
    TextRejected,
    TtsError,
)
from controller.tts.lexicon import Lexicon, LexiconError, load_lexicon
from controller.tts.normalize import NormalizedText, normalize_text
from controller.tts.render import RenderOptions, RenderResult, render_recording, render_text

__all__ = [
    "AudioProcessingError",
    "EngineUnavailable",
    "EspeakNg",
    "Gtts",
    "Lexicon",
    "LexiconError",
    "NoEngineAvailable",
    "NormalizedText",
    "RecordingRejected",
    "RenderOptions",
    "RenderResult",
    "Synthesizer",
    "TextRejected",
    "TtsError",
    "build_engines",
    "load_lexicon",
    "normalize_text",
    "render_recording",
    "render_text",
]
