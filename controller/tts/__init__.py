"""Text to speech: Vietnamese bulletin text or an uploaded recording → a loudness-normalized MP3 asset.

The public API is re-exported here; `normalize` (with `rules`, `rules_time`, `lexicon`), `engines` (with
`piper_engine`), `audio`, `cache`, `render`, `recording`, `commune_lexicon` and `voices` are the steps.
"""

from controller.tts.commune_lexicon import commune_lexicon
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
from controller.tts.piper_engine import Piper
from controller.tts.recording import language_tag, render_recording
from controller.tts.render import RenderOptions, RenderResult, render_text, rerender

__all__ = [
    "AudioProcessingError",
    "EngineUnavailable",
    "EspeakNg",
    "Gtts",
    "Lexicon",
    "LexiconError",
    "NoEngineAvailable",
    "NormalizedText",
    "Piper",
    "RecordingRejected",
    "RenderOptions",
    "RenderResult",
    "Synthesizer",
    "TextRejected",
    "TtsError",
    "build_engines",
    "commune_lexicon",
    "language_tag",
    "load_lexicon",
    "normalize_text",
    "render_recording",
    "render_text",
    "rerender",
]
