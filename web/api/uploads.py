"""Reading the body of `POST /api/v1/bulletins`: JSON text, or multipart with a recorded audio file.

Owns turning either form into a checked `BulletinIn` plus, for multipart, the recording and its
language. Must not process audio: the runtime's `store_recording` hook does that (ffmpeg, loudness,
asset store), and the bulletin service attaches the result.
"""

import json
from typing import Any

from flask import request
from pydantic import ValidationError

from controller.i18n import Joined, Message
from controller.usecases import Recording
from web.api.errors import ApiError, abort, validation_error
from web.api.schemas import BulletinIn

_JSON_FORM_FIELDS = ("targets", "schedule")


def read_bulletin_body() -> tuple[BulletinIn, Recording | None]:
    """The checked bulletin fields and, for multipart, the recording (400/415/422 on a bad body)."""
    if request.mimetype == "multipart/form-data":
        return _read_multipart()
    data = request.get_json()
    return _validate(data), None


def _validate(data: Any) -> BulletinIn:
    try:
        return BulletinIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors()) from exc


def _read_multipart() -> tuple[BulletinIn, Recording]:
    form: dict[str, Any] = request.form.to_dict()
    fields: dict[str, list[str]] = {}
    language = str(form.pop("language", "")).strip()
    if not language:
        fields["language"] = ["required: the language of the recording, e.g. vi, thai, mong, dao"]
    for name in _JSON_FORM_FIELDS:
        if name in form:
            try:
                form[name] = json.loads(form[name])
            except json.JSONDecodeError:
                fields[name] = [f"not valid JSON: {form[name][:80]!r}"]
    extra_files = sorted(set(request.files) - {"audio"})
    if extra_files:
        fields.update({name: ["unknown file part; send the recording as 'audio'"] for name in extra_files})
    upload = request.files.get("audio")
    if upload is None or not upload.filename:
        fields["audio"] = ["required: the recording as a file part named 'audio'"]
    if fields or upload is None:
        listed = Joined(
            [Message("{field}: {problems}", field=name, problems=msgs[0]) for name, msgs in fields.items()]
        )
        raise ApiError(
            422,
            Message(
                "Some values in the form were not accepted: {problems}. Correct them and send again.",
                problems=listed,
            ),
            fields=fields,
        )
    body = _validate(form)
    data = upload.read()
    if not data:
        abort(
            422,
            Message(
                "The audio file {name} is empty. Record or choose the file again.", name=repr(upload.filename)
            ),
        )
    return body, Recording(data=data, language=language)
