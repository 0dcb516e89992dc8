"""CAP out, the podcast feed, the listen-again page and drills: public, no login, only approved bulletins."""

import hashlib
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from lxml import etree

from controller import services
from controller.cap.parse import CAP_NS, cap_schema, parse_alert
from controller.db import Play
from tests.cap.support import SENDER, fixture
from tests.web.conftest import Runtime

ATOM = "{http://www.w3.org/2005/Atom}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


def public_audio(client: FlaskClient, url: str) -> bytes:
    """GET a public audio URL without login; the response (a streamed file) is closed."""
    with client.get(url.replace("http://localhost", "")) as answer:
        assert answer.status_code == 200, url
        return answer.data


def played_bulletin(client: FlaskClient, runtime: Runtime, title: str, village: str, device: str) -> int:
    """A normal bulletin, approved, with a Vietnamese and a Thái version, played on `device`."""
    body = {"title": title, "text": f"{title}: họp thôn lúc 8 giờ.", "targets": {"villages": [village]}}
    created = client.post("/api/v1/bulletins", json=body, headers=runtime.auth("operator")).json
    bulletin_id = created["id"]
    assert (
        client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=runtime.auth("operator")).status_code
        == 200
    )
    for language in ("vi", "thai"):
        sha = runtime.add_asset(f"mp3 {title} {language}".encode(), language)
        with runtime.db.session() as db:
            services.attach_audio(
                db, bulletin_id, runtime.now, language=language, kind="tts", asset_sha256=sha
            )
    assert (
        client.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=runtime.auth("approver")).status_code
        == 200
    )
    with runtime.db.session() as db:
        start = runtime.now + timedelta(minutes=1)
        db.add(
            Play(
                device_id=device, bulletin_id=bulletin_id, item_id=f"b{bulletin_id}", seq=bulletin_id,
                started_at=start, finished_at=start + timedelta(seconds=30), status="finished",
            )
        )  # fmt: skip
    runtime.now += timedelta(minutes=5)
    return bulletin_id


def world(client: FlaskClient, runtime: Runtime) -> dict[str, Any]:
    """Public: a played bulletin in Bản Lìm, an emergency, a CAP emergency. Not public: a pending bulletin
    with audio, an approved one that has not played yet, and a drill."""
    lim = played_bulletin(client, runtime, "Lịch tiêm chủng", "ban-lim", "tule-c01")
    phinh = played_bulletin(client, runtime, "Họp bản Phình", "ban-phinh", "tule-c03")
    emergency = client.post(
        "/api/v1/emergencies",
        json={"title": "Cháy rừng", "text": "Cháy rừng ở đồi thông, tránh xa.", "targets": {"all": True}},
        headers=runtime.auth("approver"),
    ).json["id"]
    pending = client.post(
        "/api/v1/bulletins",
        json={"title": "Bản nháp bí mật", "text": "Chưa duyệt.", "targets": {"all": True}},
        headers=runtime.auth("operator"),
    ).json["id"]
    secret_sha = runtime.add_asset(b"mp3 draft")
    with runtime.db.session() as db:
        services.attach_audio(db, pending, runtime.now, language="vi", kind="tts", asset_sha256=secret_sha)
    drill = client.post(
        "/api/v1/drills", json={"targets": {"villages": ["ban-lim"]}}, headers=runtime.auth("approver")
    )
    assert drill.status_code == 201, drill.json
    source = client.post(
        "/api/v1/cap/sources", json={"name": "KTTV", "senders": [SENDER]}, headers=runtime.auth("admin")
    ).json
    cap_in = client.post(
        f"/api/v1/cap/sources/{source['id']}/push",
        data=fixture("alert.xml", runtime.now),
        content_type="application/cap+xml",
        headers={"Authorization": f"Bearer {source['push_token']}"},
    ).json["bulletin_id"]
    for rendered in (emergency, cap_in):  # the runtime's speech step, which the web tests do not run
        sha = runtime.add_asset(f"mp3 speech {rendered}".encode())
        with runtime.db.session() as db:
            services.attach_audio(db, rendered, runtime.now, language="vi", kind="tts", asset_sha256=sha)
    return {
        "lim": lim, "phinh": phinh, "emergency": emergency, "pending": pending, "secret_sha": secret_sha,
        "drill": drill.json["bulletin_id"], "cap_in": cap_in,
    }  # fmt: skip


def test_cap_atom_feed_is_valid_cap_and_its_audio_verifies(client: FlaskClient, runtime: Runtime) -> None:
    ids = world(client, runtime)
    answer = client.get("/feeds/cap.atom")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    feed = etree.fromstring(answer.data)
    entries = feed.findall(f"{ATOM}entry")
    alerts = [entry.find(f"{ATOM}content/{{{CAP_NS}}}alert") for entry in entries]
    schema = cap_schema()
    for alert in alerts:
        assert alert is not None
        assert schema.validate(alert), schema.error_log
    parsed = [parse_alert(etree.tostring(a)) for a in alerts if a is not None]
    titles = [a.infos[0].headline for a in parsed]
    # Newest first; the CAP-in emergency, the drill and unapproved bulletins are not sent out.
    assert titles == ["Cháy rừng", "Họp bản Phình", "Lịch tiêm chủng"]
    lim = next(a for a in parsed if a.infos[0].headline == "Lịch tiêm chủng")
    assert lim.infos[0].areas[0].geocodes == (("VN-ADMIN", "ban-lim"),)
    assert {(a.status, a.scope) for a in parsed} == {("Actual", "Public")}
    for resource in lim.infos[0].resources:
        assert resource.uri is not None
        audio = public_audio(client, resource.uri)
        assert hashlib.sha1(audio, usedforsecurity=False).hexdigest() == resource.digest
        assert resource.size == len(audio) and resource.mime_type == "audio/mpeg"
    single = client.get(f"/feeds/cap/{ids['lim']}.xml")
    assert single.mimetype == "application/cap+xml"
    assert parse_alert(single.data).infos[0].headline == "Lịch tiêm chủng"
    assert client.get(f"/feeds/cap/{ids['pending']}.xml").status_code == 404


def test_cap_feed_per_area(client: FlaskClient, runtime: Runtime) -> None:
    world(client, runtime)

    def titles(query: str) -> list[str | None]:
        feed = etree.fromstring(client.get(f"/feeds/cap.atom{query}").data)
        return [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]

    assert titles("?area=ban-phinh") == ["Cháy rừng", "Họp bản Phình"]
    assert titles("?area=04630") == titles("") == titles("?area=15")
    missing = client.get("/feeds/cap.atom?area=nowhere")
    assert missing.status_code == 404 and "địa bàn" in missing.json["error"]["message"]


def test_podcast_feed_of_a_village(client: FlaskClient, runtime: Runtime) -> None:
    ids = world(client, runtime)
    answer = client.get("/feeds/podcast.xml?village=ban-lim")
    assert answer.status_code == 200 and answer.mimetype == "application/rss+xml"
    rss = etree.fromstring(answer.data)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    for name in ("title", "link", "description", "language"):
        assert channel.findtext(name)
    assert channel.findtext(f"{ITUNES}explicit") == "false" and channel.find(f"{ITUNES}category") is not None
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == [
        "Cảnh báo lũ quét khẩn cấp",
        "Cháy rừng",
        "Lịch tiêm chủng",
    ]
    for item in items:
        enclosure = item.find("enclosure")
        assert enclosure is not None and enclosure.get("type") == "audio/mpeg"
        audio = public_audio(client, str(enclosure.get("url")))
        assert int(str(enclosure.get("length"))) == len(audio)
        assert item.findtext(f"{ITUNES}duration") and item.findtext("guid") and item.findtext("pubDate")
    text = answer.data.decode()
    for private in ("tule-c0", "operator", "approver", "cap-system", "Bản nháp bí mật", "Phát thử"):
        assert private not in text
    thai = etree.fromstring(client.get("/feeds/podcast.xml?village=ban-lim&lang=thai").data)
    lim_item = next(i for i in thai.iter("item") if i.findtext("title") == "Lịch tiêm chủng")
    assert str(lim_item.findtext("guid")).endswith("-thai")
    assert client.get("/feeds/podcast.xml?village=nowhere").status_code == 404
    assert ids["drill"] not in (ids["lim"], ids["emergency"])


def test_listen_again_page(client: FlaskClient, runtime: Runtime) -> None:
    ids = world(client, runtime)
    chooser = client.get("/nghe-lai")
    assert chooser.status_code == 200 and "Chọn thôn/bản" in chooser.text and "Bản Lìm" in chooser.text
    page = client.get("/nghe-lai?village=ban-lim&lang=thai")
    assert page.status_code == 200
    html = page.text
    assert html.index("Cảnh báo lũ quét khẩn cấp") < html.index("Cháy rừng") < html.index("Lịch tiêm chủng")
    assert "Họp bản Phình" not in html and "Bản nháp bí mật" not in html and "tule-c0" not in html
    assert "Tiếng Thái" in html and "/feeds/podcast.xml?village=ban-lim" in html
    assert client.get(f"/nghe-lai/audio/{ids['secret_sha']}.mp3").status_code == 404
    assert client.get("/nghe-lai/audio/not-a-hash.mp3").status_code == 404
    empty = client.get("/nghe-lai?village=tang-ghenh")
    assert "Cháy rừng" in empty.text  # the emergency went to every village


def test_drill_report_names_acknowledged_and_missing_clusters(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/api/v1/drills", json={"targets": {"villages": ["ban-lim"]}}, headers=runtime.auth("approver")
    )
    assert answer.status_code == 201
    report = answer.json
    assert {m["device"] for m in report["missing"]} == {"tule-c01", "tule-c02"}
    with runtime.db.session() as db:
        db.add(
            Play(
                device_id="tule-c01", bulletin_id=report["bulletin_id"], item_id="d", seq=900,
                started_at=runtime.now + timedelta(seconds=4),
                finished_at=runtime.now + timedelta(seconds=20),
                status="finished",
            )
        )  # fmt: skip
    later = client.get(f"/api/v1/drills/{report['id']}", headers=runtime.auth("viewer")).json
    assert later["acknowledged"] == [
        {
            "device": "tule-c01", "delay_s": 4.0, "problem": None,
            "started_at": (runtime.now + timedelta(seconds=4)).isoformat(),
            "finished_at": (runtime.now + timedelta(seconds=20)).isoformat(),
        }
    ]  # fmt: skip
    assert [m["device"] for m in later["missing"]] == ["tule-c02"]
    assert client.post("/api/v1/drills", json={}, headers=runtime.auth("operator")).status_code == 403
    bad = client.post(
        "/api/v1/drills", json={"targets": {"villages": ["nowhere"]}}, headers=runtime.auth("admin")
    )
    assert bad.status_code == 422
    assert client.get("/api/v1/drills/999", headers=runtime.auth("viewer")).status_code == 404


def test_drill_pages(client: FlaskClient, runtime: Runtime) -> None:
    from tests.web.ui_support import post, sign_in

    sign_in(client, "approver")
    index = client.get("/drills")
    assert index.status_code == 200 and "Bắt đầu phát thử" in index.text
    started = post(client, "/drills", {"target_mode": "villages", "villages": "ban-lim"})
    assert started.status_code == 302
    report = client.get(started.headers["Location"])
    assert report.status_code == 200
    assert "Chưa phát" in report.text and "tule-c01" in report.text and "tule-c02" in report.text
    assert "tule-c03" not in report.text
    assert "Lần 1" in client.get("/drills").text
