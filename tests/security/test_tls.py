"""The managed broker's TLS listener: certificates from controller.tls, verified by a real paho client."""

import gc
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from controller import tls
from controller.config import load_settings
from controller.mqtt.accounts import BrokerAccount, hash_password
from controller.mqtt.broker import ManagedBroker, TlsListener, tls_listener
from loaxa.cli import main
from tests.support.services import free_port

NOW = datetime.now(UTC)
DEVICE_PASSWORD = "p1"
# paho 2.2 does not close its socket when the TLS handshake fails; the refused connection is what we test.
_PAHO_LEAKS_SOCKET = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[ManagedBroker]:
    files = tls.TlsFiles(tmp_path / "tls")
    tls.generate(files, ["localhost", "127.0.0.1"], NOW)
    broker = ManagedBroker(
        tmp_path / "mosquitto", port=free_port(), tls=TlsListener(free_port(), files, host="127.0.0.1")
    )
    broker.start([BrokerAccount("tule-c01", hash_password(DEVICE_PASSWORD), "device")])
    yield broker
    broker.stop()


def _connect_tls(broker: ManagedBroker, ca: Path, password: str = DEVICE_PASSWORD) -> ReasonCode:
    assert broker.tls is not None
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tule-c01")
    client.username_pw_set("tule-c01", password)
    client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    done = threading.Event()
    result: list[ReasonCode] = []

    def on_connect(_c: object, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        result.append(rc)
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.tls.port)
    client.loop_start()
    try:
        assert done.wait(5), "no CONNACK over TLS"
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0]


def test_generated_files_are_private_and_named_for_the_hosts(tmp_path: Path) -> None:
    files = tls.TlsFiles(tmp_path / "tls")
    cert = tls.generate(files, ["broker.tule.local", "10.0.0.2"], NOW)
    assert files.directory.stat().st_mode & 0o777 == 0o700
    assert files.ca_key.stat().st_mode & 0o777 == 0o600
    assert files.server_key.stat().st_mode & 0o777 == 0o600
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["broker.tule.local"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.2"]
    ca_before = files.ca_cert.read_bytes()
    tls.generate(files, ["other-name"], NOW)
    assert files.ca_cert.read_bytes() == ca_before, "re-issuing the server cert must keep the CA"


def test_agent_connects_over_tls_verifying_the_ca(tls_broker: ManagedBroker) -> None:
    assert tls_broker.tls is not None
    assert not _connect_tls(tls_broker, tls_broker.tls.files.ca_cert).is_failure
    assert _connect_tls(tls_broker, tls_broker.tls.files.ca_cert, "wrong").is_failure, "TLS is no login"


def test_broker_certs_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "broker", "certs", "--host", "10.0.0.2"]) == 0
    files = tls.tls_files(tmp_path)
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"10.0.0.2", "127.0.0.1"} <= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert str(files.ca_cert) in capsys.readouterr().out


@_PAHO_LEAKS_SOCKET
def test_a_wrong_ca_is_refused(tls_broker: ManagedBroker, tmp_path: Path) -> None:
    other = tls.TlsFiles(tmp_path / "other-ca")
    tls.ensure_ca(other, NOW, name="someone else's CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        _connect_tls(tls_broker, other.ca_cert)
    gc.collect()


@_PAHO_LEAKS_SOCKET
def test_a_host_name_not_in_the_certificate_is_refused(tls_broker: ManagedBroker, tmp_path: Path) -> None:
    assert tls_broker.tls is not None
    tls.issue_server_cert(tls_broker.tls.files, ["broker.example"], NOW)
    tls_broker.stop()
    tls_broker.start([BrokerAccount("tule-c01", hash_password(DEVICE_PASSWORD), "device")])
    with pytest.raises(ssl.SSLCertVerificationError):
        _connect_tls(tls_broker, tls_broker.tls.files.ca_cert)
    gc.collect()


def test_settings_turn_the_listener_on(tmp_path: Path) -> None:
    assert tls_listener(load_settings({}).mqtt, tmp_path) is None
    settings = load_settings({"LOAXA_MQTT_TLS_PORT": "8883", "LOAXA_MQTT_TLS_HOST": "10.0.0.2"})
    listener = tls_listener(settings.mqtt, tmp_path)
    assert listener == TlsListener(8883, tls.tls_files(tmp_path), host="10.0.0.2")


def test_missing_certificates_are_named(tmp_path: Path) -> None:
    listener = TlsListener(8883, tls.TlsFiles(tmp_path / "tls"))
    with pytest.raises(FileNotFoundError, match="loaxa broker certs"):
        listener.config_lines()
