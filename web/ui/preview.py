"""Hearing words before they go out: one voice preview for the compose, emergency and lexicon pages.

Owns rendering a preview through the runtime's `render_preview` hook and answering it either as a small
HTML fragment (the pages' script fetches it and shows progress meanwhile) or inside the full page (without
script). Must not save anything but the preview's audio, which the runtime keeps as an asset.
"""

from dataclasses import dataclass

from flask import render_template, request

from controller import services
from controller.services.errors import NotFound
from controller.tts.errors import TtsError
from web.context import web_context
from web.ui import common, landing

FRAGMENT_HEADER = "X-Requested-With"
FRAGMENT_VALUE = "fetch"


@dataclass(frozen=True)
class Preview:
    """How the text will be read, a link to hear it, the voice used and the length."""

    text: str
    url: str
    engine: str
    duration_ms: int


def hear(text: str) -> Preview:
    """Render `text` as the runtime would (cached by content); TtsError says why it cannot."""
    context = web_context()
    normalized, sha256, engine = context.render_preview(text)
    try:
        with context.db.session() as db:
            duration_ms = services.get_asset(db, sha256).duration_ms
    except NotFound:  # the runtime keeps previews as assets; without one, estimate from the text
        duration_ms = landing.estimate_ms(text)
    return Preview(normalized, common.audio_url(sha256), engine, duration_ms)


def wants_fragment() -> bool:
    """Whether the page's script asked (it then shows the answer in place)."""
    return request.headers.get(FRAGMENT_HEADER) == FRAGMENT_VALUE


def fragment(text: str) -> tuple[str, int]:
    """The preview of `text` as an HTML fragment: the reading and a player, or what went wrong."""
    if not text.strip():
        message = "Chưa có nội dung để nghe thử: hãy viết nội dung trước."
        return render_template("ui/_preview.html", preview=None, error=message), 422
    try:
        return render_template("ui/_preview.html", preview=hear(text), error=None), 200
    except TtsError as exc:
        message = str(getattr(exc, "message", exc))
        return render_template("ui/_preview.html", preview=None, error=message), 422
