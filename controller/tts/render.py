"""Public entry points of text to speech: bulletin text → a stored broadcast MP3 (DESIGN §6).

Owns the order of the steps (cache → normalize → engine chain → pauses and chimes → loudness → store), the
cache key, and re-rendering with a better engine; the steps themselves live in `normalize`, `engines` and
`audio`, recordings in `recording`. It writes only through the AssetStore and the render cache.
"""

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from controller.assets import AssetStore
from controller.config import TtsSettings
from controller.i18n import Message
from controller.tts import audio
from controller.tts.cache import CachedRender, RenderCache, cache_key
from controller.tts.engines import Synthesizer, build_engines, speak_with
from controller.tts.errors import EngineUnavailable, NoEngineAvailable
from controller.tts.lexicon import Lexicon
from controller.tts.normalize import NormalizedText, default_lexicon, normalize_text
from controller.tts.reading_version import normalizer_version

log = logging.getLogger(__name__)

RENDER_VERSION = 4  # bump when the audio pipeline changes, so old cache entries are not reused (4: espeak-ng
# settings and the one-pass loudness)


@dataclass(frozen=True)
class RenderOptions:
    """How a bulletin is assembled; every field is part of the cache key."""

    pause_ms: int = 400
    intro_chime: bool = True
    outro_chime: bool = True
    bitrate_kbps: int = 64


@dataclass(frozen=True)
class RenderResult:
    """A stored broadcast asset: its sha256 and size (`bytes`, as in plan items), length and origin."""

    sha256: str
    bytes: int
    duration_ms: int
    engine: str
    voice: str
    normalized_text: str
    from_cache: bool


def render_text(
    text: str,
    settings: TtsSettings,
    store: AssetStore,
    *,
    options: RenderOptions = RenderOptions(),  # frozen, so one shared default is safe
    engines: Sequence[Synthesizer] | None = None,
    lexicon: Lexicon | None = None,
) -> RenderResult:
    """Normalize, synthesize (engine chain in `settings.engines` order, cache first), assemble and store.

    `lexicon` is the commune's dictionary (`commune_lexicon(settings.data_dir)`); without it only the
    packaged one is used.
    """
    chain = tuple(engines) if engines is not None else build_engines(settings)
    return _render_with(text, chain, store, options, lexicon or default_lexicon())


def rerender(
    text: str,
    previous_engine: str,
    settings: TtsSettings,
    store: AssetStore,
    *,
    options: RenderOptions = RenderOptions(),
    engines: Sequence[Synthesizer] | None = None,
    lexicon: Lexicon | None = None,
) -> RenderResult | None:
    """Render again with an engine the chain prefers to `previous_engine`; None when none can do it now.

    For bulletins rendered while the better engines were down (offline: espeak-ng instead of gtts):
    the runtime calls this for such assets before a window and, on a result, attaches the new audio.
    """
    chain = tuple(engines) if engines is not None else build_engines(settings)
    names = [engine.name for engine in chain]
    better = chain[: names.index(previous_engine)] if previous_engine in names else chain
    if not better:
        return None
    try:
        return _render_with(text, better, store, options, lexicon or default_lexicon())
    except NoEngineAvailable as error:
        log.info("tts re-render: no engine better than %s is available: %s", previous_engine, error)
        return None


def _render_with(
    text: str, chain: Sequence[Synthesizer], store: AssetStore, options: RenderOptions, lexicon: Lexicon
) -> RenderResult:
    # The cache is looked up on the raw text before normalizing it (which takes most of a cached call):
    # the key also holds the dictionary's and the normalizer's versions, so a change to how the text
    # would be read is a miss, and each entry keeps the normalized text the preview shows.
    cache = RenderCache(store)
    normalized: NormalizedText | None = None
    reasons: list[str] = []
    for engine in chain:
        key = cache_key(
            version=RENDER_VERSION,
            engine=engine.name,
            voice=engine.voice,
            options=asdict(options),
            lexicon=lexicon.version,
            normalizer=normalizer_version(),
            text=text,
        )
        hit = cache.get(key)
        if hit is not None:
            log.info("tts cache hit %s engine %s", hit.sha256, hit.engine)
            return result_of(hit, from_cache=True)
        normalized = normalized or normalize_text(text, lexicon)
        try:
            entry = _synthesize(engine, normalized, options, store)
        except EngineUnavailable as error:
            log.warning("tts engine %s unavailable, trying the next: %s", engine.name, error)
            reasons.append(f"{engine.name}: {error}")
            continue
        cache.put(key, entry)
        log.info("tts rendered %s engine %s (%s ms)", entry.sha256, entry.engine, entry.duration_ms)
        return result_of(entry, from_cache=False)
    # Each engine's reason (network, missing program) is an internal detail: logged above and here.
    log.error("no speech engine could read the text: %s", "; ".join(reasons) or "none configured")
    raise NoEngineAvailable(
        Message(
            "No voice could read the bulletin now. Try again in a few minutes; if it keeps failing, "
            "record the announcement instead or tell the administrator."
        )
    )


def _synthesize(
    engine: Synthesizer, normalized: NormalizedText, options: RenderOptions, store: AssetStore
) -> CachedRender:
    spoken = speak_with(engine, normalized.sentences)
    speech = audio.assemble(
        spoken.clips, options.pause_ms, intro=options.intro_chime, outro=options.outro_chime
    )
    mp3 = audio.broadcast_mp3(speech, options.bitrate_kbps)
    return store_mp3(mp3, spoken.engine, spoken.voice, store, normalized.text)


def store_mp3(mp3: bytes, engine: str, voice: str, store: AssetStore, normalized_text: str) -> CachedRender:
    """Put a finished MP3 into the asset store and describe it (with the text it reads; "" for recordings)."""
    return CachedRender(store.put(mp3), len(mp3), audio.duration_ms(mp3), engine, voice, normalized_text)


def result_of(entry: CachedRender, *, from_cache: bool) -> RenderResult:
    """The public answer for a stored or cached render."""
    return RenderResult(
        entry.sha256,
        entry.bytes,
        entry.duration_ms,
        entry.engine,
        entry.voice,
        entry.normalized_text,
        from_cache,
    )
