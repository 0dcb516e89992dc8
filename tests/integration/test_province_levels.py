"""A province's levels on real parts (DESIGN §11): controller, managed mosquitto and real agent processes.

Yên Bái (15) with two districts and four communes: the seeded Tú Lệ (04630) and Nậm Lành (04631) under
Văn Chấn (140), Cát Thịnh (04700) and Sơn Thịnh (04701) under district 141; one agent per commune. A
province emergency reaches every agent; a province normal bulletin waits in each commune's inbox, plays in
the communes that schedule it, and is declined in one (its reason goes back up); a commune operator
cannot see or target a neighbour; the statistics of the province are the sum of its districts'.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller import services
from controller.services.areas import create_area
from loaxa.runtime import Controller
from tests.integration.conftest import (
    DEMO_PASSWORD,
    RULES,
    Api,
    Deployment,
    e2e_settings,
    wait_for,
    write_window,
)

COMMUNES = {"04631": "140", "04700": "141", "04701": "141"}
AGENTS = {"04630": "tule-c01", "04631": "c04631", "04700": "c04700", "04701": "c04701"}


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Deployment]:
    """The seeded demo commune, three more communes with one cluster each, staff; a 90 s window in 25 s."""
    window = write_window(tmp_path, opens_in_s=25, length_s=90)
    controller = Controller(e2e_settings(tmp_path, window), rules=RULES)
    now = datetime.now(UTC)
    with controller.db.session() as session:
        passwords = services.seed_demo(session, now, DEMO_PASSWORD)
        create_area(session, now, code="141", name="Huyện Trấn Yên", level="district", parent="15")
        for code, district in COMMUNES.items():
            create_area(session, now, code=code, name=f"Xã {code}", level="commune", parent=district)
            create_area(session, now, code=f"{code}-ban", name="Bản Chính", level="village", parent=code)
            made = services.provision_device(
                session, AGENTS[code], now, name="Cụm 1", village_id=f"{code}-ban"
            )
            passwords[AGENTS[code]] = made.mqtt_password
            services.create_user(session, f"op-{code}", DEMO_PASSWORD, "operator", now, area=code)
        services.create_user(session, "tinh-op", DEMO_PASSWORD, "operator", now, area="15")
        services.create_user(session, "tinh-boss", DEMO_PASSWORD, "approver", now, area="15")
    controller.start()
    running = Deployment(
        controller, Api(f"http://127.0.0.1:{controller.web.port}"), window, tmp_path, passwords
    )
    try:
        for device in AGENTS.values():
            running.start_agent(device)
        wait_for(
            "agents online", lambda: all(running.device(d)["online"] for d in AGENTS.values()), timeout=40
        )
        yield running
    finally:
        running.stop()


def _played(api: Api, bulletin_id: int) -> set[str]:
    _, body = api.call("GET", f"/plays?bulletin={bulletin_id}", user="tinh-op")
    return {str(p["device"]) for p in body["items"] if p["status"] == "finished"}


def _send(api: Api, body: dict[str, Any]) -> int:
    status, created = api.call("POST", "/bulletins", body, user="tinh-op")
    assert status == 201, created
    assert api.call("POST", f"/bulletins/{created['id']}/submit", user="tinh-op")[0] == 200
    assert api.call("POST", f"/bulletins/{created['id']}/approve", user="tinh-boss")[0] == 200
    return int(created["id"])


def test_a_province_and_its_communes(province: Deployment) -> None:
    api, window = province.api, province.window

    # A commune operator cannot target, nor see, a neighbour.
    status, refused = api.call(
        "POST",
        "/bulletins",
        {"title": "T", "text": "Nội dung.", "targets": {"areas": ["04630"]}},
        user="op-04631",
    )
    assert (status, refused["error"]["code"], refused["error"]["fields"]) == (
        403, "target_out_of_scope", {"targets": ["04630"]},
    )  # fmt: skip
    status, own = api.call(
        "POST", "/bulletins", {"title": "Họp", "text": "Họp xã.", "targets": {"all": True}}, user="operator"
    )
    assert api.call("GET", f"/bulletins/{own['id']}", user="op-04631")[0] == 404

    # A province emergency reaches every agent at once.
    status, emergency = api.call(
        "POST", "/emergencies",
        {"title": "Lũ quét", "text": "Khẩn cấp: lũ quét, bà con lên chỗ cao ngay.", "targets": {"all": True}},
        user="tinh-boss",
    )  # fmt: skip
    assert status == 201, emergency
    wait_for(
        "the emergency on every agent",
        lambda: set(AGENTS.values()) <= _played(api, emergency["id"]) or None,
        timeout=60,
    )

    # A normal province bulletin waits in each inbox; two communes schedule it, one declines.
    normal = _send(
        api, {"title": "Rét đậm", "text": "Tỉnh thông báo rét đậm, giữ ấm.", "targets": {"all": True}}
    )
    for operator, action, body in (
        ("operator", "schedule", None),
        ("op-04700", "schedule", None),
        ("op-04631", "decline", {"reason": "Xã đang có lịch họp dân"}),
    ):
        _, inbox = api.call("GET", "/inbox?state=waiting", user=operator)
        [entry] = [e for e in inbox["items"] if e["bulletin_id"] == normal]
        status, decided = api.call("POST", f"/inbox/{entry['id']}/{action}", body, user=operator)
        assert status == 200, decided
    wait_until = (window.end - datetime.now(UTC)).total_seconds() + 10
    wait_for(
        "the scheduled communes' agents play it",
        lambda: {"tule-c01", "c04700"} <= _played(api, normal) or None,
        timeout=wait_until,
    )
    assert _played(api, normal) == {"tule-c01", "c04700"}  # not where declined or still waiting
    _, outcomes = api.call("GET", f"/bulletins/{normal}/communes", user="tinh-op")
    by_commune = {o["commune_id"]: o for o in outcomes["items"]}
    assert by_commune["04631"]["state"] == "declined"
    assert by_commune["04631"]["reason"] == "Xã đang có lịch họp dân"
    assert by_commune["04701"]["state"] == "waiting"
    assert by_commune["04700"]["state"] == "played"
    assert by_commune["tule"]["played"] >= 1

    # The province's statistics are the sum of its districts'.
    start, end = window.start - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1)
    period = f"from={start.isoformat()}&to={end.isoformat()}".replace("+", "%2B")
    figures = {
        area: api.call("GET", f"/stats?area={area}&{period}", user="tinh-op")[1]
        for area in ("15", "140", "141")
    }
    assert figures["15"]["plays"] == figures["140"]["plays"] + figures["141"]["plays"] >= 6
    assert figures["15"]["airtime_s"] == figures["140"]["airtime_s"] + figures["141"]["airtime_s"]
