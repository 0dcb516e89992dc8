"""Over-the-air updates in the web layer: the page "Cập nhật phần mềm" and the REST API's refusals
(the end-to-end rollout with real agents is tests/integration/test_rollout.py)."""

import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from controller import apt_repo, services
from loaxa.packaging import build_agent
from protocol import Status
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import post, sign_in
from web import WebContext


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository signed by its own key holding loaxa-agent 0.2.0 (built and published once)."""
    work = tmp_path_factory.mktemp("repo")
    deb = build_agent("0.2.0", work / "dist")
    apt_repo.publish([deb], work / "apt", work / "keys", "tule")
    return work / "apt"


@pytest.fixture
def repo(context: WebContext, published: Path) -> Path:
    """The published repository in this test's data directory (where the web layer looks for it)."""
    target = apt_repo.repository_dir(context.settings)
    shutil.copytree(published, target)
    return target


def _births(runtime: Runtime, versions: dict[str, str]) -> None:
    with runtime.db.session() as session:
        for device, version in versions.items():
            services.record_status(session, device, Status("online", 1, "b1", version), NOW)


def test_the_api_refuses_what_cannot_be_rolled_out(client: FlaskClient, runtime: Runtime, repo: Path) -> None:
    admin = runtime.auth("admin")
    cases = [
        ({"version": "9.9.9"}, 422, "package_not_published"),
        ({"version": "-rf"}, 422, "validation_failed"),
        ({"version": "0.2.0", "share_percent": 0}, 422, "validation_failed"),
        ({"version": "0.2.0", "share_percent": True}, 422, "validation_failed"),
        ({"version": "0.2.0", "canary": ["tule-c99"]}, 422, "bad_rollout"),
        ({"version": "0.2.0", "surprise": 1}, 422, "validation_failed"),
    ]
    for body, status, code in cases:
        answer = client.post("/api/v1/updates", json=body, headers=admin)
        assert (answer.status_code, answer.json["error"]["code"]) == (status, code), body
    answer = client.post("/api/v1/updates", json={"version": "0.2.0"}, headers=runtime.auth("operator"))
    assert answer.status_code == 403
    # The pool's file no longer matching the signed index is refused (apt on the Pis would refuse it too).
    pool = repo / "pool/main/loaxa-agent_0.2.0_all.deb"
    pool.write_bytes(pool.read_bytes() + b"x")
    answer = client.post("/api/v1/updates", json={"version": "0.2.0"}, headers=admin)
    assert answer.json["error"]["code"] == "package_not_published"
    assert "loaxa apt publish" in answer.json["error"]["message"]


def test_the_page_shows_versions_and_waves_and_starts_and_cancels(
    client: FlaskClient, runtime: Runtime, repo: Path
) -> None:
    _births(runtime, {"tule-c01": "0.1.0", "tule-c02": "0.1.0", "tule-c03": "0.2.0"})
    sign_in(client, "operator")
    assert client.get("/updates").status_code == 403  # admins only
    sign_in(client, "admin")
    page = client.get("/updates").get_data(as_text=True)
    assert "Cập nhật phần mềm" in page and "Phiên bản trên 12 cụm loa" in page
    assert "chưa báo: <strong>9</strong>" in page and "0.1.0: <strong>2</strong>" in page
    assert '<option value="0.2.0">' in page

    bad = post(client, "/updates", {"version": "0.2.0", "share": "mười"}, token=None)
    assert bad.status_code == 422 and "Tỉ lệ đợt hai" in bad.get_data(as_text=True)
    started = post(client, "/updates", {"version": "0.2.0", "canary": "tule-c03", "share": "20"})
    assert started.status_code == 302
    page = client.get("/updates").get_data(as_text=True)
    assert "Lần 1: loaxa-agent 0.2.0 — Đang chạy" in page
    assert "Đợt 1 (thử nghiệm): 0/1 cụm tốt" in page and "Đợt 2: 0/3 cụm tốt" in page
    again = post(client, "/updates", {"version": "0.2.0"})
    assert again.status_code == 422 and "đang chạy" in again.get_data(as_text=True)

    assert post(client, "/updates/1/cancel", {}).status_code == 302
    page = client.get("/updates").get_data(as_text=True)
    assert "Lần 1: loaxa-agent 0.2.0 — Đã huỷ" in page
    overview = client.get("/api/v1/updates", headers=runtime.auth("viewer")).json
    assert overview["versions"] == {"unknown": 9, "0.1.0": 2, "0.2.0": 1}
    assert overview["rollouts"][0]["state"] == "cancelled"
