"""The wire contract: signing, strict readers, topics."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import Asset, Command, PlanBody, PlanItem, ProtocolError, Signer, Verifier, WindowSpec, topics
from protocol.signing import (
    PublicKey,
    decode_json,
    generate_private_key,
    load_public_key_b64,
    public_key_b64,
)

NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def _public(key: Ed25519PrivateKey) -> PublicKey:
    return load_public_key_b64(public_key_b64(key.public_key()))


def _item() -> PlanItem:
    return PlanItem(
        item_id="b1-w1",
        bulletin_id=1,
        priority="normal",
        asset=Asset(sha256="a" * 64, bytes=1000, duration_ms=2000, url="http://x/a"),
        not_before=NOW,
        not_after=NOW + timedelta(hours=2),
        planned_start=NOW,
        window="morning",
    )


def _plan() -> PlanBody:
    return PlanBody(
        version=3,
        generated_at=NOW,
        timezone="Asia/Ho_Chi_Minh",
        windows=(WindowSpec("morning", "05:00:00", "07:30:00"),),
        items=(_item(),),
    )


def test_signed_plan_round_trips_and_verifies() -> None:
    key = generate_private_key()
    payload = Signer(key).seal(kind="plan", device="tule-c01", seq=3, body=_plan().to_json(), issued_at=NOW)
    public = load_public_key_b64(public_key_b64(key.public_key()))
    envelope = Verifier([public], "tule-c01").open(payload)
    assert envelope.seq == 3
    assert PlanBody.from_json(envelope.body) == _plan()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda d: d.__setitem__("seq", 99), "bad_signature"),
        (lambda d: d["body"]["items"][0].__setitem__("priority", "emergency"), "bad_signature"),
        (lambda d: d.__setitem__("device", "tule-c02"), "foreign_device"),
        (lambda d: d.__setitem__("v", 2), "bad_version"),
        (lambda d: d.__setitem__("sig", "!!!"), "bad_signature"),
        (lambda d: d.__setitem__("extra", 1), "bad_field"),
    ],
)
def test_tampered_envelopes_are_refused(tamper: object, reason: str) -> None:
    key = generate_private_key()
    data = json.loads(
        Signer(key).seal(kind="plan", device="tule-c01", seq=3, body=_plan().to_json(), issued_at=NOW)
    )
    tamper(data)  # type: ignore[operator]
    with pytest.raises(ProtocolError) as caught:
        Verifier([_public(key)], "tule-c01").open(json.dumps(data).encode())
    assert caught.value.reason == reason


def test_other_key_is_refused_but_rotation_accepts_both() -> None:
    old, new = generate_private_key(), generate_private_key()
    payload = Signer(new).seal(kind="cmd", device="d", seq=1, body={"command": "resync"}, issued_at=NOW)
    with pytest.raises(ProtocolError, match="signature"):
        Verifier([_public(old)], "d").open(payload)
    assert Verifier([_public(old), _public(new)], "d").open(payload).type == "cmd"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "bad_utf8"),
        (b"{not json", "bad_json"),
        (b"[" * 100_000, "bad_json"),
        (b'{"seq": ' + b"9" * 5000 + b"}", "bad_json"),  # CPython refuses integers over 4300 digits
        (b" " * (2 << 20), "too_large"),
    ],
)
def test_bad_payloads_have_reasons(payload: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_json(payload)
    assert caught.value.reason == reason


def test_readers_refuse_wrong_types_with_a_clear_message() -> None:
    data = _item().to_json()
    data["repeat"] = "3"
    with pytest.raises(ProtocolError, match=r"item.repeat: expected an integer"):
        PlanItem.from_json(data)
    with pytest.raises(ProtocolError, match="end 05:00:00 is not after start"):
        WindowSpec.from_json({"name": "x", "start": "07:00", "end": "05:00"})
    with pytest.raises(ProtocolError, match="play_now needs an item"):
        Command.from_json({"command": "play_now"})


def test_topics_round_trip() -> None:
    topic = topics.device_topic("tule-c01", "heartbeat")
    assert topic == "loaxa/v1/dev/tule-c01/heartbeat"
    assert topics.parse_device_topic(topic) == ("tule-c01", "heartbeat")
    assert topics.parse_device_topic("loaxa/v1/dev/x/unknown") is None
    assert topics.shared_filter("events") == "$share/loaxa/loaxa/v1/dev/+/events"


def test_a_muted_plan_stays_muted() -> None:
    body = _plan().to_json()
    body["volume"] = 0
    assert PlanBody.from_json(body).volume == 0
    del body["volume"]
    assert PlanBody.from_json(body).volume == 80


def test_resync_may_name_the_first_event_to_send_again() -> None:
    """`events_from` is optional (issue 20, item 5): an older controller's bare `resync` reads as before."""
    assert Command.from_json({"command": "resync"}).events_from is None
    asked = Command.from_json({"command": "resync", "events_from": 22})
    assert asked.events_from == 22 and asked.to_json() == {"command": "resync", "events_from": 22}
    assert Command(command="resync").to_json() == {"command": "resync"}
    for bad in (0, -1, True, "22", 1.5):
        with pytest.raises(ProtocolError, match="events_from"):
            Command.from_json({"command": "resync", "events_from": bad})


SHA = "ab" * 32


def test_update_command_is_signed_verified_and_forgeries_refused() -> None:
    key = generate_private_key()
    body = Command(command="update", version="0.4.0-1", sha256=SHA).to_json()
    assert body == {"command": "update", "version": "0.4.0-1", "sha256": SHA}
    payload = Signer(key).seal(kind="cmd", device="d", seq=7, body=body, issued_at=NOW)
    opened = Command.from_json(Verifier([_public(key)], "d").open(payload).body)
    assert (opened.version, opened.sha256) == ("0.4.0-1", SHA)
    forged = json.loads(payload)
    forged["body"]["version"] = "0.0.1-1"  # a downgrade slipped in by someone without the key
    with pytest.raises(ProtocolError) as caught:
        Verifier([_public(key)], "d").open(json.dumps(forged).encode())
    assert caught.value.reason == "bad_signature"
    other = Signer(generate_private_key()).seal(kind="cmd", device="d", seq=8, body=body, issued_at=NOW)
    with pytest.raises(ProtocolError, match="signature"):
        Verifier([_public(key)], "d").open(other)


@pytest.mark.parametrize(
    "body",
    [
        {"command": "update", "sha256": SHA},
        {"command": "update", "version": "0.4.0-1"},
        {"command": "update", "version": "-o APT::x=1", "sha256": SHA},
        {"command": "update", "version": "0.4 loaxa-controller", "sha256": SHA},
        {"command": "update", "version": "0.4.0-1", "sha256": SHA.upper()},
        {"command": "update", "version": "0.4.0-1", "sha256": "ab" * 31},
        {"command": "update", "version": 4, "sha256": SHA},
    ],
)
def test_update_command_refuses_what_apt_could_misread(body: dict[str, object]) -> None:
    with pytest.raises(ProtocolError) as caught:
        Command.from_json(body)
    assert caught.value.reason == "bad_field"


def _area_message(key: Ed25519PrivateKey, targets: list[str]) -> bytes:
    body = Command("play_now", item=_item()).to_json()
    return Signer(key).seal_area(kind="cmd", area="ban-lim", targets=targets, seq=7, body=body, issued_at=NOW)


@pytest.mark.parametrize(
    ("targets", "tamper", "reason"),
    [
        (
            ["tule-c02"],
            lambda m: m | {"targets": [*m["targets"], "tule-c01"]},
            "bad_signature",
        ),  # adds itself
        (["tule-c01"], lambda m: m | {"seq": 8}, "bad_signature"),
        (["tule-c01"], lambda m: m | {"area": "ban-phinh"}, "foreign_area"),  # another village's message
        (["tule-c01"], lambda m: {**m, "device": "tule-c01"}, "bad_field"),  # half a device envelope
        (["tule-c01"], lambda m: {k: v for k, v in m.items() if k != "targets"}, "not_targeted"),
        (["tule-c02"], lambda m: m, "not_targeted"),
    ],
)
def test_area_envelopes_verify_only_for_their_targets_untouched(
    targets: list[str], tamper: object, reason: str
) -> None:
    key = generate_private_key()
    verifier = Verifier([_public(key)], "tule-c01")
    opened = verifier.open_area(_area_message(key, ["tule-c01", "tule-c02"]), "ban-lim")
    assert (opened.area, opened.seq, opened.type) == ("ban-lim", 7, "cmd")
    assert Command.from_json(opened.body).item == _item()
    message = json.loads(_area_message(key, targets))
    with pytest.raises(ProtocolError) as refused:
        verifier.open_area(json.dumps(tamper(message)).encode(), "ban-lim")  # type: ignore[operator]
    assert refused.value.reason == reason


def test_area_and_device_envelopes_are_not_interchangeable() -> None:
    key = generate_private_key()
    verifier = Verifier([_public(key)], "tule-c01")
    with pytest.raises(ProtocolError, match="missing field 'device'"):
        verifier.open(_area_message(key, ["tule-c01"]))
    device_message = Signer(key).seal(kind="cmd", device="tule-c01", seq=7, body={}, issued_at=NOW)
    with pytest.raises(ProtocolError, match="missing field 'area'"):
        verifier.open_area(device_message, "ban-lim")
    assert topics.parse_area_topic(topics.area_topic("ban-lim")) == "ban-lim"
    assert topics.parse_area_topic(topics.device_topic("tule-c01", "cmd")) is None
    with pytest.raises(ProtocolError, match="not an area code"):
        PlanBody.from_json(_plan().to_json() | {"areas": ["+"]})


def test_a_fetch_announcement_names_its_asset() -> None:
    asset = _item().asset
    fetch = Command("fetch", asset=asset)
    assert Command.from_json(fetch.to_json()) == fetch
    with pytest.raises(ProtocolError, match="fetch needs an asset"):
        Command.from_json({"command": "fetch"})
