"""CAP test helpers: fixtures filled in against a clock, a loopback HTTP server, and signing keys.

The server is a real http.server on 127.0.0.1 (a free port) serving bytes per path, optionally after a delay
(a feed that times out); the keys are a fresh RSA key pair and a self-signed certificate per call.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.signer import XMLSigner

FIXTURES = Path(__file__).parent.parent / "data" / "cap"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
SENDER = "canhbao@kttv-yenbai.gov.vn"
TULE_CODE = "04630"


def cap_time(moment: datetime) -> str:
    """A CAP date-time (local, with offset)."""
    return moment.astimezone(LOCAL).isoformat(timespec="seconds")


def fixture(
    name: str, now: datetime, *, area: str = TULE_CODE, expires_in: timedelta = timedelta(hours=6)
) -> bytes:
    """A fixture file with ${sent}, ${expires} and ${area} filled in against `now`."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    filled = Template(text).safe_substitute(
        sent=cap_time(now - timedelta(minutes=1)), expires=cap_time(now + expires_in), area=area
    )
    return filled.encode("utf-8")


@dataclass
class Served:
    """What the loopback server answers: path → (content type, body, delay in seconds)."""

    routes: dict[str, tuple[str, bytes, float]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def add(
        self, path: str, body: bytes, content_type: str = "application/cap+xml", delay: float = 0.0
    ) -> None:
        """Serve `body` at `path`."""
        self.routes[path] = (content_type, body, delay)


@contextmanager
def cap_server() -> Iterator[tuple[str, Served]]:
    """A loopback HTTP server; yields its base URL and the routes to fill."""
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits.append(self.path)
            route = served.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            content_type, body, delay = route
            if delay:
                served.release.wait(delay)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        served.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class KeyPair:
    """A signing key (PEM) and its self-signed certificate (PEM)."""

    key_pem: bytes
    cert_pem: str


def key_pair(now: datetime | None = None) -> KeyPair:
    """A fresh RSA 2048 key and a self-signed certificate valid around `now`."""
    moment = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kttv-yenbai.gov.vn")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(days=1))
        .not_valid_after(moment + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(key_pem, cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))


def sign(document: bytes, keys: KeyPair) -> bytes:
    """`document` with an enveloped XML signature (RSA-SHA256) by `keys`, its certificate included."""
    root = etree.fromstring(document)
    signed = XMLSigner().sign(root, key=keys.key_pem, cert=keys.cert_pem)
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
