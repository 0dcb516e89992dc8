"""Bulletin text → the words to read aloud, split into sentences for synthesis (DESIGN §6 steps 1–2).

Owns cleaning (NFC, whitespace, limits), the order of the reading steps (addresses and road numbers in
`rules_codes`, the commune's dictionary, then our rules in `rules`, then g2p-hamster's rule-based
normalizer for whatever is left: plain numbers, symbols, spelled-out letters) and the split into
sentences. It must not synthesize audio or touch files
other than the dictionary it is given.
"""

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from controller.i18n import Message
from controller.tts import numbers
from controller.tts.errors import TextRejected
from controller.tts.lexicon import Lexicon, load_lexicon
from controller.tts.rules import apply_rules
from controller.tts.rules_codes import read_codes

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000  # about six minutes of speech: longer bulletins are two bulletins

_NUMBER_SLASH = re.compile(r"(\d)\s*/\s*(\d)")
_DIGIT_RUN = re.compile(r"\d{1,12}")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SPACES = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class NormalizedText:
    """What will be read: the whole text (shown in the UI preview) and its sentences, in order."""

    text: str
    sentences: tuple[str, ...]


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """NFC, no control characters, paragraphs ended by punctuation; reject empty or too long text."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    lines = [line for line in (_SPACES.sub(" ", line).strip() for line in text.split("\n")) if line]
    cleaned = " ".join(lines)
    if not any(ch.isalnum() for ch in cleaned):
        raise TextRejected(Message("The bulletin text is empty. Write the words to read aloud."))
    if len(cleaned) > max_chars:
        raise TextRejected(
            Message(
                "The bulletin text has {length} characters, more than the {limit} allowed. "
                "Shorten it or split it into two bulletins.",
                length=len(cleaned),
                limit=max_chars,
            )
        )
    # A paragraph without final punctuation still ends a sentence (a pause, a split for synthesis).
    return " ".join(line if line[-1] in ".!?…:;," else f"{line}." for line in lines)


def normalize_text(
    text: str, lexicon: Lexicon | None = None, max_chars: int = MAX_TEXT_CHARS
) -> NormalizedText:
    """Clean `text` and turn it into readable Vietnamese words, split into sentences."""
    cleaned = clean_text(text, max_chars)
    lexicon = lexicon or default_lexicon()
    # The dictionary's readings teach the address reader its words ("Tú Lệ" → "tule.yenbai.gov.vn").
    words = apply_rules(lexicon.apply(read_codes(cleaned, lexicon.entries.values())))
    words = _SPACES.sub(" ", _g2p_read(words)).strip()
    sentences = tuple(s for s in _SENTENCE_END.split(words) if any(ch.isalnum() for ch in s))
    if not sentences:
        raise TextRejected(
            Message("Nothing in {text} can be read aloud. Write it in words.", text=repr(text[:80]))
        )
    return NormalizedText(" ".join(sentences), sentences)


@cache
def default_lexicon() -> Lexicon:
    """The packaged abbreviation dictionary, loaded once."""
    return load_lexicon()


def _g2p_read(text: str) -> str:
    """g2p-hamster's rule-based normalizer (deterministic, ~1 ms a sentence once its tables are loaded)."""
    from g2p_hamster.t0 import normalize as g2p_normalize

    try:
        read = str(g2p_normalize(text)["read_string"])
    # A third-party normalizer on free text: whatever it raises, reading our own words beats failing.
    except Exception:
        log.warning("g2p-hamster failed on %r; reading our own normalization", text[:80], exc_info=True)
        return spell_leftover_numbers(text)
    if not any(ch.isalnum() for ch in read):
        log.warning("g2p-hamster dropped all of %r; reading our own normalization", text[:80])
        return spell_leftover_numbers(text)
    return read


def spell_leftover_numbers(text: str) -> str:
    """Last resort when g2p-hamster fails: any digits left become words, "a/b" reads "a trên b"."""
    text = _NUMBER_SLASH.sub(r"\1 trên \2", text)
    return _DIGIT_RUN.sub(
        lambda m: (
            numbers.digits(m.group(0)) if m.group(0).startswith("0") else numbers.cardinal(int(m.group(0)))
        ),
        text,
    )
