"""Provisioning devices, their broker accounts, and reading them with uptime."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from controller.mqtt.accounts import render_passwords
from controller.services import (
    Conflict,
    NotFound,
    ValidationFailed,
    broker_accounts,
    get_device,
    list_devices,
    list_villages,
    provision_device,
    record_heartbeat,
    reset_device_password,
)
from controller.services.seed import _matches
from tests.services.conftest import T0, World
from tests.services.test_ingest import heartbeat


def test_provision_returns_the_password_once_and_stores_its_hash(session: Session, world: World) -> None:
    created = provision_device(session, "tl-c04", T0, name="Cụm loa chợ", village_id="cai", speakers=3)
    assert created.device.id == "tl-c04"
    assert created.device.online is False
    assert len(created.mqtt_password) >= 40
    account = next(a for a in broker_accounts(session) if a.username == "tl-c04")
    assert account.role == "device"
    assert account.password_hash.startswith("$7$")
    assert created.mqtt_password not in account.password_hash
    assert _matches(created.mqtt_password, account.password_hash)
    assert "tl-c04:$7$" in render_passwords(broker_accounts(session))
    new_password = reset_device_password(session, "tl-c04", T0)
    assert _matches(
        new_password, next(a for a in broker_accounts(session) if a.username == "tl-c04").password_hash
    )


@pytest.mark.parametrize(
    "bad", ["TL-C01", "tl/c01", "tl+c01", "tl#1", "-tl", "tl-", "", "a" * 65, "tl c01", "$sys"]
)
def test_device_ids_must_be_safe_mqtt_names(session: Session, world: World, bad: str) -> None:
    with pytest.raises(ValidationFailed, match=r"Mã cụm loa .* không hợp lệ. Hãy dùng 1–64 chữ thường"):
        provision_device(session, bad, T0, name="x", village_id="lim")


def test_provision_errors(session: Session, world: World) -> None:
    with pytest.raises(Conflict, match="Mã cụm loa tl-c01 đã được dùng"):
        provision_device(session, "tl-c01", T0, name="x", village_id="lim")
    with pytest.raises(NotFound, match="Không có thôn/bản “nowhere”"):
        provision_device(session, "tl-c09", T0, name="x", village_id="nowhere")
    with pytest.raises(ValidationFailed, match="Số loa phải là số nguyên từ 1 đến 64"):
        provision_device(session, "tl-c09", T0, name="x", village_id="lim", speakers=0)
    with pytest.raises(NotFound, match="Không có cụm loa tl-c99"):
        get_device(session, "tl-c99", T0)


def test_list_and_get_with_uptime(session: Session, world: World) -> None:
    now = T0 + timedelta(days=7)
    # tl-c01 covers the last 12 hours (slow heartbeats keep the test short): half of 24 h, 1/14 of 7 d.
    start, interval = now - timedelta(hours=12), timedelta(minutes=12)
    for n in range(24):
        record_heartbeat(
            session, "tl-c01", heartbeat(n), start + timedelta(minutes=30 * n), interval=interval
        )
    devices = {d.id: d for d in list_devices(session, now)}
    assert sorted(devices) == ["tl-c01", "tl-c02", "tl-c03"]
    c01 = get_device(session, "tl-c01", now)
    assert c01.online is True
    assert c01.uptime_24h == pytest.approx(0.5)
    assert c01.uptime_7d == pytest.approx(1 / 14)
    assert devices["tl-c01"].uptime_24h == c01.uptime_24h
    assert (devices["tl-c02"].uptime_24h, devices["tl-c02"].online, devices["tl-c02"].last_seen) == (
        0.0,
        False,
        None,
    )
    assert [d.id for d in list_devices(session, now, village_id="cai")] == ["tl-c03"]
    assert len(list_devices(session, now, commune_id="tl")) == 3


def test_villages_keep_their_languages(session: Session, world: World) -> None:
    villages = {v.id: v for v in list_villages(session, "tl")}
    assert villages["lim"].name == "Bản Lìm"
    assert villages["cai"].languages == ("vi", "mong")


def test_device_villages_names_every_device_once(session: Session, world: World) -> None:
    from controller.services import device_villages

    villages = device_villages(session)
    assert list(villages) == sorted(villages)
    assert villages["tl-c01"] == "lim" and set(villages.values()) <= {"lim", "cai", "empty"}


def test_rename_and_move_keep_the_login(session: Session, world: World) -> None:
    from controller.services import update_device

    before = {a.username: a.password_hash for a in broker_accounts(session)}
    moved = update_device(session, "tl-c01", T0, name=" Cụm  chợ ", village_id="cai", actor="root")
    assert (moved.name, moved.village_id) == ("Cụm chợ", "cai")
    assert [d.id for d in list_devices(session, T0, village_id="cai")] == ["tl-c01", "tl-c03"]
    assert {a.username: a.password_hash for a in broker_accounts(session)} == before
    unchanged = update_device(session, "tl-c01", T0, name="Cụm chợ")  # the same name: no audit row
    assert unchanged.name == "Cụm chợ"


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({}, ValidationFailed, "Không có gì để sửa"),
        ({"name": "  "}, ValidationFailed, "phải dài 1–200 ký tự"),
        ({"name": "x" * 201}, ValidationFailed, "phải dài 1–200 ký tự"),
        ({"village_id": "nowhere"}, NotFound, "Không có thôn/bản “nowhere”"),
    ],
)
def test_rename_and_move_refuse_bad_input(
    session: Session, world: World, change: dict[str, str], error: type[Exception], words: str
) -> None:
    from controller.services import update_device

    with pytest.raises(error, match=words):
        update_device(session, "tl-c02", T0, **change)
    assert get_device(session, "tl-c02", T0).village_id == "lim"


def test_revoke_keeps_the_row_but_not_the_login_nor_the_plans(session: Session, world: World) -> None:
    from controller.services import device_villages, revoke_device, update_device

    revoked = revoke_device(session, "tl-c02", T0 + timedelta(hours=1), actor="root")
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert "tl-c02" not in {a.username for a in broker_accounts(session)}
    assert "tl-c02" not in device_villages(session)
    assert [d.id for d in list_devices(session, T0)] == ["tl-c01", "tl-c03"]
    assert get_device(session, "tl-c02", T0).revoked_at is not None  # its history stays readable
    for step in (
        lambda: revoke_device(session, "tl-c02", T0),
        lambda: update_device(session, "tl-c02", T0, name="y"),
        lambda: reset_device_password(session, "tl-c02", T0),
    ):
        with pytest.raises(Conflict, match="đã bị thu hồi"):
            step()
    with pytest.raises(Conflict, match="đã được dùng"):  # the id is not handed out again
        provision_device(session, "tl-c02", T0, name="x", village_id="lim")
    with pytest.raises(NotFound):
        revoke_device(session, "tl-c99", T0)
