"""`/api/v1/stations`: add, list, change and retire stations; bad input refused in Vietnamese; probing."""

import functools
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.services import free_port
from tests.web.conftest import Runtime

VOV1 = "http://stream.example.vn:8000/vov1"


def _post(
    client: FlaskClient, runtime: Runtime, body: Any, user: str = "admin"
) -> tuple[int, dict[str, Any]]:
    answer = client.post("/api/v1/stations", json=body, headers=runtime.auth(user))
    return answer.status_code, answer.json or {}


def test_add_list_change_and_retire(client: FlaskClient, runtime: Runtime) -> None:
    status, body = _post(client, runtime, {"name": "VOV1", "urls": [VOV1, "https://x.example.vn/vov1.m3u8"]})
    assert status == 201, body
    station = body["id"]
    assert body["relay_mount"] == f"/relay-{station}" and body["warnings"] == []
    status, body = _post(
        client, runtime, {"name": "Đài tỉnh", "urls": ["https://yb.example.vn/live.m3u8"]}, "approver"
    )
    assert status == 201 and body["relay_mount"] is None  # Icecast 2.4 relays plain http only
    listed = client.get("/api/v1/stations", headers=runtime.auth("operator")).json["items"]
    assert [s["name"] for s in listed] == ["VOV1", "Đài tỉnh"]
    answer = client.patch(
        f"/api/v1/stations/{station}", json={"urls": [VOV1 + "b"]}, headers=runtime.auth("admin")
    )
    assert answer.status_code == 200 and answer.json["urls"] == [VOV1 + "b"] and answer.json["name"] == "VOV1"
    answer = client.post(f"/api/v1/stations/{station}/retire", headers=runtime.auth("admin"))
    assert answer.status_code == 200 and answer.json["retired"] is True and answer.json["relay_mount"] is None
    assert [
        s["name"] for s in client.get("/api/v1/stations", headers=runtime.auth("admin")).json["items"]
    ] == ["Đài tỉnh"]
    answer = client.patch(f"/api/v1/stations/{station}", json={"name": "VOV"}, headers=runtime.auth("admin"))
    assert answer.status_code == 409 and answer.json["error"]["code"] == "station_retired"
    status, body = _post(client, runtime, {"name": "VOV1", "urls": [VOV1]})  # the name is free again
    assert status == 201


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"name": "VOV1", "urls": []}, "validation_failed", "ít nhất một địa chỉ"),
        ({"name": "VOV1", "urls": "http://a/b"}, "validation_failed", "danh sách"),
        ({"name": "VOV1", "urls": ["ftp://a/b"]}, "validation_failed", "không phải địa chỉ luồng"),
        ({"name": "VOV1", "urls": ["http:///nohost"]}, "validation_failed", "không phải địa chỉ luồng"),
        (
            {"name": "VOV1", "urls": ["http://a:99999/x"]},
            "validation_failed",
            "không phải địa chỉ luồng",
        ),
        ({"name": "VOV1", "urls": ["http://a/x y"]}, "validation_failed", "khoảng trắng"),
        ({"name": "VOV1", "urls": [VOV1, VOV1]}, "validation_failed", "lặp lại"),
        ({"name": "VOV1", "urls": [f"http://a/{i}" for i in range(8)]}, "validation_failed", "1–7"),
        ({"name": "VOV1", "urls": [123]}, "validation_failed", "văn bản"),
        ({"name": "  ", "urls": [VOV1]}, "validation_failed", "tên đài"),
        ({"name": "VOV1", "urls": [VOV1], "extra": 1}, None, "extra"),
        ({"urls": [VOV1]}, None, "name"),
    ],
)
def test_bad_stations_are_refused(
    client: FlaskClient, runtime: Runtime, body: Any, code: str | None, words: str
) -> None:
    answer = client.post("/api/v1/stations", json=body, headers=runtime.auth("admin"))
    assert answer.status_code == 422
    error = answer.json["error"]
    assert code is None or error["code"] == code
    assert words in error["message"] or words in str(error.get("fields"))


def test_only_admins_and_approvers_manage_and_names_are_unique(client: FlaskClient, runtime: Runtime) -> None:
    assert _post(client, runtime, {"name": "VOV1", "urls": [VOV1]}, "operator")[0] == 403
    assert _post(client, runtime, {"name": "VOV1", "urls": [VOV1]})[0] == 201
    status, body = _post(client, runtime, {"name": "VOV1", "urls": [VOV1 + "x"]}, "approver")
    assert status == 409 and body["error"]["code"] == "station_exists"
    assert (
        client.patch("/api/v1/stations/999", json={"name": "x"}, headers=runtime.auth("admin")).status_code
        == 404
    )
    assert client.get("/api/v1/stations").status_code == 401


@pytest.fixture
def web_files(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on loopback serving an MP3 tone and a text file."""
    root = tmp_path / "www"
    root.mkdir()
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            str(root / "tone.mp3"),
        ],
        check=True,
    )
    (root / "page.txt").write_text("xin chào, đây không phải âm thanh\n" * 50)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=root)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_probe_warns_about_non_audio_and_unreachable_urls(
    client: FlaskClient, runtime: Runtime, web_files: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/vov1"
    urls = [f"{web_files}/tone.mp3", f"{web_files}/page.txt", closed]
    status, body = _post(client, runtime, {"name": "VOV1", "urls": urls, "probe": True})
    assert status == 201  # a warning, not a refusal: the station is stored
    warnings = body["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{web_files}/page.txt: ") and "không có âm thanh" in warnings[0]
    assert warnings[1].startswith(f"{closed}: ") and "không kết nối" in warnings[1]
