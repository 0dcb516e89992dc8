"""Asset downloads by signed URL: whole file, Range (206 / 416), ETag, and refused signatures."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from controller.assets import sign_asset_url
from tests.web.conftest import NOW, SECRET, Runtime

DATA = bytes(range(256)) * 40  # 10 240 bytes


def _url(sha256: str, expires_in: timedelta = timedelta(hours=1), secret: bytes = SECRET) -> str:
    url = urlsplit(sign_asset_url("http://controller:8080", sha256, secret, NOW + expires_in))
    return f"{url.path}?{url.query}"


def test_whole_file_with_etag(client: FlaskClient, runtime: Runtime) -> None:
    sha256 = runtime.store.put(DATA)
    answer = client.get(_url(sha256))
    assert answer.status_code == 200
    assert answer.data == DATA
    assert answer.mimetype == "audio/mpeg"
    assert answer.headers["Accept-Ranges"] == "bytes"
    assert answer.headers["ETag"] == f'"{sha256}"'
    assert answer.headers["Content-Length"] == str(len(DATA))
    cached = client.get(_url(sha256), headers={"If-None-Match": f'"{sha256}"'})
    assert cached.status_code == 304
    assert cached.data == b""


def test_range_resumes_a_download(client: FlaskClient, runtime: Runtime) -> None:
    sha256 = runtime.store.put(DATA)
    middle = client.get(_url(sha256), headers={"Range": "bytes=100-199"})
    assert middle.status_code == 206
    assert middle.data == DATA[100:200]
    assert middle.headers["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    tail = client.get(_url(sha256), headers={"Range": "bytes=10000-"})
    assert tail.status_code == 206
    assert tail.data == DATA[10000:]
    suffix = client.get(_url(sha256), headers={"Range": "bytes=-16"})
    assert suffix.data == DATA[-16:]


def test_unsatisfiable_range_is_416(client: FlaskClient, runtime: Runtime) -> None:
    sha256 = runtime.store.put(DATA)
    answer = client.get(_url(sha256), headers={"Range": "bytes=20000-"})
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert answer.json["error"]["code"] == "range_not_satisfiable"


def test_bad_expired_or_missing_signature_is_403(client: FlaskClient, runtime: Runtime) -> None:
    sha256 = runtime.store.put(DATA)
    forged = client.get(_url(sha256, secret=b"x" * 32))
    assert forged.status_code == 403
    assert forged.json["error"]["code"] == "bad_signature"
    assert "không khớp" in forged.json["error"]["message"]
    expired = client.get(_url(sha256, expires_in=timedelta(seconds=-1)))
    assert expired.status_code == 403
    assert expired.json["error"]["code"] == "url_expired"
    unsigned = client.get(f"/api/v1/assets/{sha256}")
    assert unsigned.status_code == 403
    assert "chưa được ký" in unsigned.json["error"]["message"]


def test_unknown_asset_is_404(client: FlaskClient) -> None:
    missing = "0" * 64
    assert client.get(_url(missing)).status_code == 404
    not_an_id = client.get(_url("etc-passwd"))
    assert not_an_id.status_code == 404
