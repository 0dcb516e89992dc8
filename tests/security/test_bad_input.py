"""Bad input at the HTTP edge: clear 4xx answers, never a 500, never a file outside the stores."""

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from controller.assets import sign_asset_url
from controller.tts import render_recording
from tests.web.conftest import NOW, SECRET, Runtime
from web import create_app
from web.api.guards import JSON_LIMIT_BYTES, MAX_JSON_DEPTH, UPLOAD_LIMIT_BYTES
from web.context import WebContext

BULLETIN = {"title": "Họp thôn", "text": "Mời bà con họp lúc 8 giờ.", "targets": {"all": True}}
JSON = {"Content-Type": "application/json"}


def _post(
    client: FlaskClient, runtime: Runtime, raw: bytes, path: str = "/api/v1/bulletins"
) -> tuple[int, dict[str, Any]]:
    answer = client.post(path, data=raw, headers={**runtime.auth("operator"), **JSON})
    return answer.status_code, answer.json["error"]


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b'{"title": "a\\u0000b", "text": "x", "targets": {"all": true}}', 422, "U+0000"),
        (b'{"title": "\\ud800", "text": "x", "targets": {"all": true}}', 422, "có ký tự hỏng"),
        (b'{"title": "ok", "text": "x", "targets": {"all": true, "\\udfff": 1}}', 422, "có ký tự hỏng"),
        (b'{"title": "\x1b[2J", "text": "x", "targets": {"all": true}}', 400, "Invalid control character"),
        (b'{"title": "\\u001b[2J", "text": "x", "targets": {"all": true}}', 422, "U+001B"),
        (b'{"title": "\xff\xfe", "text": "x", "targets": {"all": true}}', 400, "không phải chữ UTF-8"),
        (b"[" * 5000 + b"]" * 5000, 422, "lồng nhau quá"),
        (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), 422, "lồng nhau quá"),
        (b'{"title": 1e999999, "text": "x"}', 422, ""),
        (b"NaN", 422, ""),
    ],
)
def test_bad_json_text_is_refused_clearly(
    client: FlaskClient, runtime: Runtime, raw: bytes, status: int, words: str
) -> None:
    got, error = _post(client, runtime, raw)
    assert got == status, error
    assert words in error["message"]


def test_huge_json_is_413(client: FlaskClient, runtime: Runtime) -> None:
    raw = b'{"title": "' + b"a" * JSON_LIMIT_BYTES + b'"}'
    got, error = _post(client, runtime, raw)
    assert got == 413
    assert error["code"] == "payload_too_large"


def test_overlong_text_and_unknown_fields_are_named(client: FlaskClient, runtime: Runtime) -> None:
    headers = runtime.auth("operator")
    long_text = client.post("/api/v1/bulletins", json={**BULLETIN, "text": "a" * 5001}, headers=headers)
    assert long_text.status_code == 422
    assert "quá giới hạn 5000 ký tự" in long_text.json["error"]["message"]
    unknown = client.post("/api/v1/bulletins", json={**BULLETIN, "approved": True}, headers=headers)
    assert unknown.status_code == 422
    assert "approved: trường không có: hãy bỏ đi" in unknown.json["error"]["message"]
    nul_query = client.get("/api/v1/bulletins?status=draft%00", headers=headers)
    assert nul_query.status_code == 422


def test_upload_file_names_cannot_reach_the_file_system(
    client: FlaskClient, runtime: Runtime, tmp_path: Path
) -> None:
    before = {p for p in tmp_path.parent.rglob("*")}
    form = {
        "title": "Thông báo",
        "text": "Bản ghi tiếng Mông",
        "targets": '{"all": true}',
        "language": "mong",
    }
    for name in ("../../../../tmp/pwned.mp3", "/etc/passwd", "..\\..\\x.mp3", "a\x00.mp3", "ổ.mp3"):
        answer = client.post(
            "/api/v1/bulletins",
            data={**form, "audio": (io.BytesIO(b"ID3 fake audio"), name)},
            headers=runtime.auth("operator"),
            content_type="multipart/form-data",
        )
        assert answer.status_code in (201, 422), (name, answer.json)
    created = {p for p in tmp_path.parent.rglob("*")} - before
    assert all(p.is_relative_to(tmp_path) for p in created)
    assert not Path("/tmp/pwned.mp3").exists()


def test_upload_over_the_limit_is_413(client: FlaskClient, runtime: Runtime) -> None:
    # Built by hand: the test client would spool a file this size to a temporary file it never closes.
    boundary = "loaxa-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="big.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    body = head + b"\0" * (UPLOAD_LIMIT_BYTES + 1) + f"\r\n--{boundary}--\r\n".encode()
    answer = client.post(
        "/api/v1/bulletins",
        data=body,
        headers=runtime.auth("operator"),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"


def _signed(sha256: str, expires_in: timedelta = timedelta(hours=1)) -> tuple[str, dict[str, str]]:
    url = urlsplit(sign_asset_url("http://controller:8080", sha256, SECRET, NOW + expires_in))
    return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}


def test_tampered_asset_urls_are_refused(client: FlaskClient, runtime: Runtime) -> None:
    mine, other = runtime.store.put(b"approved words"), runtime.store.put(b"other words")
    path, query = _signed(mine)
    assert client.get(f"{path}?{urlencode(query)}").status_code == 200
    flipped = "0" if query["sig"][-1] != "0" else "1"
    tampered = [
        f"/api/v1/assets/{other}?{urlencode(query)}",  # the signature of one asset for another
        f"{path}?{urlencode({**query, 'expires': int(query['expires']) + 86400})}",  # a longer life
        f"{path}?{urlencode({**query, 'sig': query['sig'][:-1] + flipped})}",
        f"{path}?{urlencode({**query, 'sig': query['sig'].upper() + 'aa'})}",
        f"{path}?{urlencode({**query, 'expires': 'soon'})}",
        f"{path}?expires={query['expires']}&sig=",
    ]
    for url in tampered:
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert answer.json["error"]["code"] in ("bad_signature", "forbidden"), url


@pytest.mark.parametrize(
    "name", ["..%2F..%2Fkeys%2Furl-secret", "%2e%2e", "..", "a" * 64 + "%00", "A" * 64, "0" * 65]
)
def test_asset_path_tricks_never_escape_the_store(client: FlaskClient, name: str) -> None:
    answer = client.get(f"/api/v1/assets/{name}?expires=9999999999&sig={'0' * 64}")
    assert answer.status_code in (403, 404, 422), answer.status_code
    assert answer.mimetype == "application/json"


def test_recordings_that_are_not_audio_are_422(context: WebContext, runtime: Runtime) -> None:
    real = replace(
        context, store_recording=lambda data, language: render_recording(data, language, runtime.store).sha256
    )
    app = create_app(real)
    form = {"title": "t", "text": "bản ghi", "targets": '{"all": true}', "language": "mong"}
    for data, name in ((b"<?php system($_GET['c']); ?>", "shell.mp3"), (b"\x00" * 4096, "zeros.wav")):
        answer = app.test_client().post(
            "/api/v1/bulletins",
            data={**form, "audio": (io.BytesIO(data), name)},
            headers=runtime.auth("operator"),
            content_type="multipart/form-data",
        )
        assert answer.status_code == 422, answer.json
        assert answer.json["error"]["code"] == "recording_rejected"
        message = answer.json["error"]["message"]
        assert "Hãy ghi lại hoặc chọn tệp MP3, WAV, M4A, OGG" in message
        assert "/tmp" not in message and "ffprobe" not in message, "no temporary paths or tool output"


@pytest.mark.parametrize(
    "field", [{"title": "\u200b\u200c\u200d"}, {"text": "\u200b\ufeff\u2060"}, {"text": "\u00ad ... !"}]
)
def test_invisible_or_wordless_title_or_text_is_422(
    client: FlaskClient, runtime: Runtime, field: dict[str, str]
) -> None:
    """Zero-width characters only: nothing to read aloud, so it must not be approved (issue 20, item 14)."""
    body = {"title": "Họp dân", "text": "Tối nay họp dân.", "targets": {"all": True}, **field}
    answer = client.post("/api/v1/bulletins", json=body, headers=runtime.auth("operator"))
    assert answer.status_code == 422, answer.json
    assert "không có chữ hay số" in answer.json["error"]["message"]
