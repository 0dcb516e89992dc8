"""A small detector of English in text people read: common English function words and error words.

Vietnamese shares few short ASCII words with English, but some ("to" big, "in" print, "an" safe, "do"
because, "no" full) are left out on purpose. Tokens that are names, units or formats stay allowed.
"""

import re
from html.parser import HTMLParser
from typing import Final

ENGLISH: Final = frozenset(
    {
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "must",
        "should",
        "would",
        "could",
        "can",
        "cannot",
        "can't",
        "please",
        "not",
        "found",
        "error",
        "errors",
        "failed",
        "failure",
        "invalid",
        "unknown",
        "required",
        "missing",
        "allowed",
        "only",
        "when",
        "which",
        "will",
        "this",
        "that",
        "these",
        "those",
        "your",
        "you",
        "with",
        "from",
        "into",
        "than",
        "then",
        "there",
        "here",
        "does",
        "did",
        "has",
        "have",
        "had",
        "of",
        "and",
        "or",
        "but",
        "if",
        "else",
        "because",
        "while",
        "where",
        "who",
        "what",
        "why",
        "how",
        "any",
        "some",
        "none",
        "every",
        "each",
        "must'nt",
        "already",
        "yet",
        "still",
        "give",
        "take",
        "send",
        "try",
        "again",
        "check",
        "field",
        "value",
        "empty",
        "exist",
        "exists",
        "doesn't",
        "isn't",
        "aren't",
        "wasn't",
        "won't",
    }
)
# Words in the UI that are names of things, formats or units, not English sentences.
ALLOWED: Final = frozenset({"espeak-ng", "mp3", "wav", "m4a", "ogg", "webm", "api", "lufs", "https", "http"})
# Where a person reads no text: scripts, styles and code (machine words shown as such).
_SKIP: Final = frozenset({"script", "style", "code", "pre", "kbd", "samp"})
# Attributes a person reads (screen readers, tooltips, empty inputs, images).
_READ_ATTRS: Final = ("title", "aria-label", "placeholder", "alt")
_PLACEHOLDER: Final = re.compile(r"\{[a-z_]+\}")
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def english_words(text: str) -> list[str]:
    """The English function words in `text` (empty when it reads as Vietnamese)."""
    text = _PLACEHOLDER.sub(" ", text)
    words = [word.lower().strip("'’-") for word in _WORD.findall(text)]
    return [word for word in words if word in ENGLISH and word not in ALLOWED]


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        for name, value in attrs:
            if name in _READ_ATTRS and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    """The pieces of text of an HTML page a person reads (text nodes and read-aloud attributes)."""
    parser = _Visible()
    parser.feed(html)
    return parser.texts


def english_in_page(html: str) -> list[str]:
    """The pieces of a page's visible text that contain English words, with the words found."""
    return [f"{text!r}: {words}" for text in visible_texts(html) if (words := english_words(text))]
