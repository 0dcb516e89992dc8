"""The broker's TLS material: a private certificate authority and a server certificate it signs.

Owns the files in `data_dir/tls` (`ca.crt`, `ca.key`, `server.crt`, `server.key`; keys 0600 in a 0700
directory) and the rules for making them: ECDSA P-256, the CA valid 10 years, server certificates
2 years with a subjectAltName for every broker host name and IP address agents use. It must not start
or configure the broker (controller.mqtt.broker does) and reads the time only through `now`.
"""

import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=730)
# A little slack for devices whose clock is behind when they first connect.
_BACKDATE = timedelta(hours=1)


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA and the server certificate live; agents need only `ca_cert`."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        """The CA certificate: copy it to every agent (it is public)."""
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        """The CA private key: never leaves the controller."""
        return self.directory / "ca.key"

    @property
    def server_cert(self) -> Path:
        """The broker's certificate, signed by the CA."""
        return self.directory / "server.crt"

    @property
    def server_key(self) -> Path:
        """The broker's private key."""
        return self.directory / "server.key"

    def complete(self) -> bool:
        """True when the CA certificate and the server certificate and key all exist."""
        return all(p.exists() for p in (self.ca_cert, self.server_cert, self.server_key))


def tls_files(data_dir: Path) -> TlsFiles:
    """The TLS files of a deployment: `data_dir/tls`."""
    return TlsFiles(data_dir / "tls")


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _load_ca(files: TlsFiles) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.ca_key} is not an EC private key; move it away to make a new CA")
    return key, x509.load_pem_x509_certificate(files.ca_cert.read_bytes())


def ensure_ca(files: TlsFiles, now: datetime, *, name: str = "loaxa broker CA") -> x509.Certificate:
    """Load the CA, creating it when `ca.key` is missing (an existing CA is never replaced)."""
    files.directory.mkdir(parents=True, exist_ok=True)
    files.directory.chmod(0o700)
    if files.ca_key.exists() and files.ca_cert.exists():
        return _load_ca(files)[1]
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(files.ca_key, _key_pem(key), 0o600)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert


def issue_server_cert(files: TlsFiles, hosts: list[str], now: datetime) -> x509.Certificate:
    """Sign a fresh server key and certificate for `hosts` (names and IPs), replacing the old pair."""
    if not hosts:
        raise ValueError("name at least one broker host or IP address agents connect to (--host)")
    ca_key, ca_cert = _load_ca(files)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.server_key, _key_pem(key), 0o600)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert


def generate(files: TlsFiles, hosts: list[str], now: datetime) -> x509.Certificate:
    """Make the CA if needed and a server certificate for `hosts`; return the server certificate."""
    ensure_ca(files, now)
    return issue_server_cert(files, hosts, now)


def default_hosts(broker_urls: list[str]) -> list[str]:
    """Names a broker certificate should carry by default: the broker URLs' hosts, this machine, loopback."""
    hosts = [h for h in (urlsplit(url).hostname for url in broker_urls) if h]
    return [*hosts, socket.gethostname(), "localhost", "127.0.0.1"]
