"""Reading CAP 1.2 safely: the fixtures, the bad inputs, signatures, area matching, policy and languages."""

import base64
import time
from datetime import UTC, datetime

import pytest
from lxml import etree

from controller.cap import geo
from controller.cap.fetch import poll
from controller.cap.languages import village_language
from controller.cap.model import Area, CapRejected
from controller.cap.parse import check_schema, parse_alert, parse_xml
from controller.cap.policy import DEFAULT_POLICY, Policy, Rule, decide
from controller.cap.signature import verify_signed
from tests.cap.support import SENDER, cap_server, fixture, key_pair, sign

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def test_alert_fixture_reads_every_field() -> None:
    alert = parse_alert(fixture("alert.xml", NOW))
    assert (alert.identifier, alert.sender, alert.status, alert.msg_type) == (
        "KTTV-YB-2026-0001", SENDER, "Actual", "Alert",
    )  # fmt: skip
    assert [i.language for i in alert.infos] == ["vi-VN", "blt", "hmn"]
    vi = alert.infos[0]
    assert (vi.urgency, vi.severity, vi.certainty) == ("Immediate", "Extreme", "Observed")
    assert vi.instruction.startswith("Bà con ở ven suối")
    assert vi.areas[0].geocodes == (("VN-ADMIN", "04630"),)
    assert alert.expires is not None and alert.expires > NOW


def test_update_and_cancel_read_their_references() -> None:
    for name in ("update.xml", "cancel.xml"):
        alert = parse_alert(fixture(name, NOW))
        assert [(s, i) for s, i, _ in alert.references] == [(SENDER, "KTTV-YB-2026-0001")]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("bomb.xml", "forbidden_dtd"), ("xxe.xml", "forbidden_dtd"), ("malformed.xml", "malformed_xml")],
)
def test_hostile_and_broken_xml_is_refused(name: str, reason: str) -> None:
    started = time.monotonic()
    with pytest.raises(CapRejected) as refused:
        parse_alert(fixture(name, NOW))
    assert refused.value.reason == reason
    assert "root:" not in refused.value.message  # nothing of /etc/passwd leaks into the message
    assert time.monotonic() - started < 5  # a bomb is refused, not expanded (generous bound, not a benchmark)


def test_an_entity_is_never_resolved_even_without_the_doctype_check() -> None:
    # The parser itself, without the DTD refusal in front of it, leaves the external entity unresolved.
    from controller.cap.parse import safe_parser

    root = etree.fromstring(fixture("xxe.xml", NOW), parser=safe_parser())
    assert "root:" not in etree.tostring(root).decode()


def test_schema_refuses_a_missing_element_and_a_foreign_root() -> None:
    broken = fixture("alert.xml", NOW).replace(b"<status>Actual</status>", b"")
    with pytest.raises(CapRejected) as refused:
        parse_alert(broken)
    assert refused.value.reason == "schema_invalid"
    with pytest.raises(CapRejected) as foreign:
        check_schema(parse_xml(b"<rss version='2.0'/>"))
    assert foreign.value.reason == "not_cap"


def test_schema_refuses_an_unknown_severity() -> None:
    with pytest.raises(CapRejected) as refused:
        parse_alert(fixture("alert.xml", NOW).replace(b"<severity>Extreme", b"<severity>Apocalyptic", 1))
    assert refused.value.reason == "schema_invalid"


def test_signature_verifies_and_tampering_or_another_key_is_refused() -> None:
    keys = key_pair(NOW)
    signed = sign(fixture("alert.xml", NOW), keys)
    root = verify_signed(signed, keys.cert_pem)
    check_schema(root)  # a signed alert is still valid CAP (the schema allows xmldsig at the end)
    tampered = signed.replace("lũ quét đang xuống".encode(), "trời đẹp".encode())
    for document, cert in ((tampered, keys.cert_pem), (signed, key_pair(NOW).cert_pem)):
        with pytest.raises(CapRejected) as refused:
            verify_signed(document, cert)
        assert refused.value.reason == "bad_signature"
    with pytest.raises(CapRejected) as unsigned:
        verify_signed(fixture("alert.xml", NOW), keys.cert_pem)
    assert unsigned.value.reason == "no_signature"


def test_polygon_matching() -> None:
    ring = ((21.7, 104.2), (21.7, 104.4), (21.9, 104.4), (21.9, 104.2), (21.7, 104.2))
    area = Area(description="x", geocodes=(("VN-ADMIN", "04630"), ("FIPS6", "1")), polygons=(ring,))
    points = {"inside": (21.8, 104.3), "outside": (21.8, 104.5), "north": (22.0, 104.3)}
    assert geo.villages_in_polygons([area], points) == {"inside"}
    assert geo.area_codes([area]) == {"04630"}
    alert = parse_alert(fixture("polygon.xml", NOW))
    assert geo.villages_in_polygons(alert.infos[0].areas, points) == {"inside"}


def test_default_policy_and_first_match() -> None:
    infos = parse_alert(fixture("alert.xml", NOW)).infos
    assert decide(DEFAULT_POLICY, infos) == "emergency"
    landslide = parse_alert(fixture("polygon.xml", NOW)).infos
    assert decide(DEFAULT_POLICY, landslide) == "priority"
    cautious = Policy(rules=[Rule(severity=["Extreme"], action="inbox")], default="ignore")
    assert decide(cautious, infos) == "inbox"
    assert decide(cautious, landslide) == "ignore"


@pytest.mark.parametrize(
    ("tag", "language"),
    [("vi-VN", "vi"), ("vi", "vi"), ("blt", "thai"), ("x-thai", "thai"), ("hmn", "mong"), ("mww", "mong"),
     ("ium", "dao"), ("en-US", None)],
)  # fmt: skip
def test_language_tags(tag: str, language: str | None) -> None:
    assert village_language(tag) == language


def test_inline_audio_resource_is_read() -> None:
    audio = b"ID3 fake mp3 bytes"
    document = fixture("alert.xml", NOW).replace(
        b"<area>",
        b"<resource><resourceDesc>Audio</resourceDesc><mimeType>audio/mpeg</mimeType>"
        + f"<size>{len(audio)}</size><derefUri>{base64.b64encode(audio).decode()}</derefUri>".encode()
        + b"<digest>ABC</digest></resource><area>",
        1,
    )
    resource = parse_alert(document).infos[0].resources[0]
    assert (resource.deref, resource.size, resource.digest) == (audio, len(audio), "abc")


def test_poll_reads_a_feed_and_refuses_html_and_slow_servers() -> None:
    with cap_server() as (base, served):
        served.add("/feed.atom", fixture("feed.atom", NOW), "application/atom+xml")
        served.add("/alert.xml", fixture("alert.xml", NOW))
        served.add("/test.xml", fixture("test.xml", NOW))
        served.add("/page", fixture("page.html", NOW), "text/html")
        served.add("/slow", fixture("alert.xml", NOW), delay=30)
        found = poll(f"{base}/feed.atom", 5)
        assert [f.where.rsplit("/", 1)[1] for f in found] == ["alert.xml", "test.xml"]
        assert all(f.data and f.problem is None for f in found)
        html = poll(f"{base}/page", 5)
        assert html[0].problem is not None and html[0].problem.reason == "not_cap"
        slow = poll(f"{base}/slow", 0.5)
        assert slow[0].problem is not None and slow[0].problem.reason == "fetch_timeout"
        missing = poll(f"{base}/nothing", 5)
        assert missing[0].problem is not None and missing[0].problem.reason == "fetch_failed"
