"""`/api/v1/lexicon`: the commune's dictionary of abbreviations and place names (admins only).

Owns the HTTP side of the dictionary: its request and response shapes, the admin check and the version
check that stops two admins from overwriting each other. Reading, checking and writing the file are
controller.tts (`lexicon`, `commune_lexicon`); renders pick an edit up at once because they key their
cache on the dictionary's version.
"""

import logging
from typing import Self

from apiflask import APIBlueprint
from pydantic import BaseModel, ConfigDict, Field, model_validator

from controller.i18n import Joined, Message
from controller.tts.commune_lexicon import LexiconView, load_view, replace_commune_entries
from controller.tts.lexicon import MAX_KEY_CHARS, MAX_READING_CHARS, Entry, Kind, LexiconError, check_entry
from web.api.errors import ApiError
from web.api.security import permit, token_auth
from web.context import web_context

log = logging.getLogger(__name__)

bp = APIBlueprint("lexicon", __name__, tag="lexicon")
MAX_ENTRIES = 2000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadingIn(_In):
    """How one written form is read aloud."""

    reading: str = Field(
        min_length=1, max_length=MAX_READING_CHARS, description="In words, e.g. 'ủy ban nhân dân'."
    )
    kind: Kind = Field("abbreviation", description="abbreviation or place (place names).")


class EntryIn(ReadingIn):
    """One line of the commune's dictionary."""

    key: str = Field(
        min_length=1, max_length=MAX_KEY_CHARS, description="The written form, matched as a whole word."
    )

    @model_validator(mode="after")
    def _readable(self) -> Self:
        problems = check_entry(self.key, self.reading)
        if problems:
            raise ValueError(Message("{key}: {problems}", key=repr(self.key), problems=Joined(problems)))
        return self


class LexiconIn(_In):
    """The commune's whole dictionary, replacing what it had."""

    entries: list[EntryIn] = Field(max_length=MAX_ENTRIES)
    version: str | None = Field(
        None, description="The version you loaded; a 409 answers if someone saved in between."
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        keys = [entry.key for entry in self.entries]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(
                Message("written forms listed twice: {keys}; keep one line each", keys=", ".join(twice))
            )
        return self


class EntryOut(BaseModel):
    """A dictionary line as renders use it, and where it comes from."""

    key: str
    reading: str
    kind: Kind
    source: str = Field(description="packaged (ships with loaxa) or commune (this commune's file).")
    packaged_reading: str | None = Field(None, description="The packaged reading a commune line overrides.")


class LexiconOut(BaseModel):
    """Every entry in effect, sorted by written form, with the dictionary's version."""

    version: str
    entries: list[EntryOut]


def _out(view: LexiconView) -> LexiconOut:
    packaged = {entry.key: entry for entry in view.packaged}
    commune = {entry.key: entry for entry in view.commune}
    rows = [
        EntryOut(
            key=entry.key,
            reading=entry.reading,
            kind=entry.kind,
            source="commune" if entry.key in commune else "packaged",
            packaged_reading=packaged[entry.key].reading
            if entry.key in commune and entry.key in packaged
            else None,
        )
        for entry in sorted({**packaged, **commune}.values(), key=lambda e: e.key)
    ]
    return LexiconOut(version=view.lexicon.version, entries=rows)


def _view() -> LexiconView:
    """The dictionary in effect; a hand-edited file that no longer reads is a 500 saying how to fix it."""
    try:
        return load_view(web_context().settings.data_dir)
    except LexiconError as error:
        log.error("the commune's pronunciation dictionary cannot be read: %s", error)
        raise ApiError(
            500,
            Message(
                "The commune's pronunciation dictionary cannot be read. Fix the file, or replace "
                "the list with PUT /api/v1/lexicon."
            ),
            "lexicon_broken",
        ) from error


def _save(entries: list[Entry], base_version: str | None) -> LexiconOut:
    if base_version is not None and base_version != _view().lexicon.version:
        raise ApiError(
            409,
            Message(
                "Someone changed the dictionary since you opened it. Reload it and make your change again."
            ),
        )
    return _out(replace_commune_entries(web_context().settings.data_dir, entries))


@bp.get("/lexicon")
@bp.auth_required(token_auth)
@bp.output(LexiconOut)
@bp.doc(summary="The dictionary in effect: packaged entries and the commune's own (admin)")
def get_lexicon() -> LexiconOut:
    """Every entry with its source; the version changes with every edit."""
    permit("lexicon.manage")
    return _out(_view())


@bp.put("/lexicon")
@bp.auth_required(token_auth)
@bp.input(LexiconIn, arg_name="body")
@bp.output(LexiconOut)
@bp.doc(
    summary="Replace the commune's own entries (admin)",
    responses={409: "Someone saved the dictionary since `version`", 422: "An entry is not valid"},
)
def put_lexicon(body: LexiconIn) -> LexiconOut:
    """Write the commune's whole list; packaged entries stay, and commune lines override them."""
    permit("lexicon.manage")
    return _save([Entry(e.key, e.reading.strip(), e.kind) for e in body.entries], body.version)


@bp.put("/lexicon/entries/<path:key>")
@bp.auth_required(token_auth)
@bp.input(ReadingIn, arg_name="body")
@bp.output(LexiconOut)
@bp.doc(summary="Add or change one commune entry (admin)", responses={422: "The entry is not valid"})
def put_entry(key: str, body: ReadingIn) -> LexiconOut:
    """Set how `key` (URL-encoded, e.g. TT%26TT) is read, keeping the commune's other entries."""
    permit("lexicon.manage")
    problems = check_entry(key, body.reading.strip())
    if problems:
        raise ApiError(
            422,
            Message(
                "The entry {key} is not valid: {problems}", key=repr(key[:60]), problems=Joined(problems)
            ),
            fields={"reading": problems},
        )
    kept = [entry for entry in _view().commune if entry.key != key]
    return _save([*kept, Entry(key, body.reading.strip(), body.kind)], None)


@bp.delete("/lexicon/entries/<path:key>")
@bp.auth_required(token_auth)
@bp.output(LexiconOut)
@bp.doc(summary="Remove one commune entry (admin)", responses={404: "The commune has no such entry"})
def delete_entry(key: str) -> LexiconOut:
    """Drop the commune's line for `key`; a packaged reading of it applies again."""
    permit("lexicon.manage")
    commune = _view().commune
    if all(entry.key != key for entry in commune):
        raise ApiError(
            404,
            Message(
                "The commune's dictionary has no entry {key}. Built-in entries cannot be removed.",
                key=repr(key[:60]),
            ),
        )
    return _save([entry for entry in commune if entry.key != key], None)
