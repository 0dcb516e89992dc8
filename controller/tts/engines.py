"""Speech synthesizers behind one small port, and the chain that falls back between them (DESIGN §6 step 3).

Owns running espeak-ng and calling Google TTS, with their timeouts and retries, and building the chain
from the config (Piper lives in `piper_engine`); it must not touch files, the asset store or loudness
(that is `render`'s job, which also walks the chain, so that it can look in its cache before asking each
engine). A new engine is one more class with `name`, `voice` and `synthesize`, and one more line in
`build_engines`.
"""

import io
import logging
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from controller.config import TtsSettings
from controller.tts.errors import EngineUnavailable
from controller.tts.piper_engine import Piper

log = logging.getLogger(__name__)


class Synthesizer(Protocol):
    """One text-to-speech engine: a sentence in, audio bytes (WAV or MP3, any rate) out."""

    @property
    def name(self) -> str:
        """The engine's name as configured and recorded ("gtts", "espeak-ng", ...)."""
        ...

    @property
    def voice(self) -> str:
        """The voice or language the engine speaks with (part of the cache key)."""
        ...

    def synthesize(self, sentence: str) -> bytes:
        """Speak one sentence; raise EngineUnavailable when this engine cannot."""
        ...


@dataclass(frozen=True)
class EspeakNg:
    """The local, always-available fallback: `espeak-ng -v <voice> --stdout`, WAV out."""

    # Chosen with bench/bench_espeak.py (docs/speech.md): about 4.1 syllables/s, a pause at every comma and
    # colon, fewer long gaps inside phrases than at 150 wpm, and a wider pitch range for the tones.
    voice: str = "vi"
    words_per_minute: int = 165
    pitch: int = 40
    word_gap: int = 0  # extra silence between words, in units of 10 ms at the default speed
    timeout_s: float = 60.0
    program: str = "espeak-ng"
    name: str = "espeak-ng"

    def synthesize(self, sentence: str) -> bytes:
        """Speak one sentence with espeak-ng and return its WAV bytes."""
        command = [
            *(self.program, "-v", self.voice, "-s", str(self.words_per_minute), "-p", str(self.pitch)),
            *("-g", str(self.word_gap), "--stdout", "--stdin"),
        ]
        try:
            done = subprocess.run(
                command, input=sentence.encode(), capture_output=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise EngineUnavailable(
                f"espeak-ng could not run ({error}); install the espeak-ng package"
            ) from error
        if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
            reason = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise EngineUnavailable(f"espeak-ng failed for voice {self.voice!r}: {reason}")
        return done.stdout


@dataclass(frozen=True)
class Gtts:
    """Google's online voice through gTTS, MP3 out; fails fast when Google cannot be reached.

    `timeout_s` bounds each HTTP request (connect, and each wait for data); gTTS sends one request per
    ~100 characters, so a sentence takes at most requests × timeout × (1 + retries) plus the backoff
    pauses (`backoff_s`, doubling) when Google is slow. Offline it fails within a second.
    """

    timeout_s: float = 4.0
    voice: str = "vi"
    host: str = "translate.google.com"
    retries: int = 2
    backoff_s: float = 0.5
    name: str = "gtts"

    def synthesize(self, sentence: str) -> bytes:
        """Speak one sentence through Google TTS and return its MP3 bytes."""
        from gtts import gTTS, gTTSError

        self._check_reachable()
        failure: Exception | None = None
        for attempt in range(1 + self.retries):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            buffer = io.BytesIO()  # in memory: a failed request leaves no empty file behind
            try:
                gTTS(sentence, lang=self.voice, lang_check=False, timeout=self.timeout_s).write_to_fp(buffer)
            except (gTTSError, OSError) as error:
                failure = error
                log.info("gtts attempt %s failed: %s", attempt + 1, error)
                continue
            if buffer.getbuffer().nbytes:
                return buffer.getvalue()
            failure = EngineUnavailable("Google TTS answered with no audio")
        raise EngineUnavailable(f"Google TTS failed after {1 + self.retries} attempts: {failure}")

    def _check_reachable(self) -> None:
        """Open (and close) a TCP connection to Google within a second, DNS included, or give up."""
        if urllib.request.getproxies().get("https"):
            return  # behind a proxy only the request itself can tell; its timeout still bounds it
        deadline = min(1.0, self.timeout_s)
        outcome: list[BaseException | None] = []

        def connect() -> None:
            try:
                socket.create_connection((self.host, 443), timeout=deadline).close()
                outcome.append(None)
            except OSError as error:
                outcome.append(error)

        # getaddrinfo ignores socket timeouts, so the whole attempt runs in a thread we stop waiting for.
        worker = threading.Thread(target=connect, name="gtts-reachability", daemon=True)
        worker.start()
        worker.join(deadline)
        if not outcome:
            raise EngineUnavailable(f"Google TTS ({self.host}) did not answer within {deadline:.1f} s")
        if outcome[0] is not None:
            raise EngineUnavailable(f"Google TTS ({self.host}) is unreachable: {outcome[0]}")


@dataclass(frozen=True)
class Spoken:
    """Audio for every sentence, from one engine (never a mix of voices within a bulletin)."""

    engine: str
    voice: str
    clips: tuple[bytes, ...]


def build_engines(settings: TtsSettings) -> tuple[Synthesizer, ...]:
    """The engines named in `settings.engines`, in order; unknown names are skipped with a log."""
    piper_voice = settings.piper_voice
    makers: dict[str, Callable[[], Synthesizer]] = {
        "gtts": lambda: Gtts(timeout_s=settings.gtts_timeout_s),
        "espeak-ng": lambda: EspeakNg(voice=settings.espeak_voice),
    }
    if piper_voice is not None:
        makers["piper"] = lambda: Piper(piper_voice)
    engines: list[Synthesizer] = []
    for name in settings.engines:
        if name in makers:
            engines.append(makers[name]())
        elif name == "piper":
            # The default chain names piper; until `loaxa voices install` has run it is simply not there.
            log.debug("tts engine piper has no voice file (set LOAXA_TTS_PIPER_VOICE); skipping it")
        else:
            log.warning("tts engine %s is not known (gtts, piper, espeak-ng); skipping it", name)
    return tuple(engines)


def speak_with(engine: Synthesizer, sentences: Sequence[str], workers: int = 4) -> Spoken:
    """Synthesize all sentences with one engine, a few at a time; EngineUnavailable if any sentence fails.

    The first failure cancels the sentences not yet started, so an engine that is down costs one attempt.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(sentences))), thread_name_prefix="tts")
    futures: list[Future[bytes]] = [pool.submit(engine.synthesize, sentence) for sentence in sentences]
    try:
        clips = tuple(future.result() for future in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return Spoken(engine.name, engine.voice, clips)
