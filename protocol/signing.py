"""Signed envelopes for controller → device messages (DESIGN §5) and the JSON decoding every side uses.

`sig` is base64 Ed25519 over the canonical JSON (sorted keys, no spaces, UTF-8) of everything but `sig`.
Replay protection (a `seq` above the last accepted one) needs the receiver's memory, so it lives with the
receiver; this module checks the signature, the envelope version and the device name.

An area envelope (published once on `loaxa/v1/area/{area}/cmd` for many devices) carries `area` and
`targets` instead of `device`; both are signed. A device that is not among the targets is told so before
any signature work (`not_targeted`), so the devices of a commune that a message is not for spend nothing
on it.

Verifying takes raw public keys and `_ed25519` (plain Python); only signing and key files use
`cryptography`, imported where they are called, so the edge agent never loads it (~10 MB of RSS). A
`Verifier` may be given another check of the same signature (`SignatureCheck`): the fleet simulator's
option to check with `cryptography`, where a hundred simulated agents share one CPU (loaxa/fleet.py).
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from protocol import _ed25519
from protocol._fields import Fields
from protocol.errors import ProtocolError
from protocol.timefmt import format_utc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ENVELOPE_VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 1024 * 1024
# (raw 32-byte public key, signed bytes, 64-byte signature) → whether the signature is valid.
SignatureCheck = Callable[[bytes, bytes, bytes], bool]
# An area message names at most this many target devices (a province has ~3,000 clusters; a commune ~20).
MAX_TARGETS: Final = 10_000


def canonical_json(obj: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: the exact bytes that are signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_json(payload: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Decode an MQTT payload as UTF-8 JSON, refusing oversized or malformed input with a reason."""
    if len(payload) > max_bytes:
        raise ProtocolError("too_large", f"payload of {len(payload)} bytes is over {max_bytes}")
    try:
        return json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProtocolError("bad_utf8", f"payload is not UTF-8: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError is a ValueError; so is CPython's refusal of integers over 4300 digits.
        raise ProtocolError("bad_json", f"payload is not usable JSON: {str(exc)[:200]}") from exc


@dataclass(frozen=True)
class Envelope:
    """A verified envelope; `body` is still raw JSON for the type's own reader."""

    type: str
    device: str
    seq: int
    issued_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True)
class AreaEnvelope:
    """A verified area envelope for this device (it is among `targets`); `body` is raw JSON."""

    type: str
    area: str
    seq: int
    issued_at: datetime
    body: dict[str, Any]


@dataclass(frozen=True)
class PublicKey:
    """A raw 32-byte Ed25519 public key that decodes to a curve point."""

    raw: bytes


def generate_private_key() -> "Ed25519PrivateKey":
    """A fresh Ed25519 signing key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def private_key_pem(key: "Ed25519PrivateKey") -> bytes:
    """PKCS#8 PEM bytes of a private key (unencrypted: protect the file with permissions)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_b64(key: "Ed25519PublicKey") -> str:
    """The raw 32-byte public key as base64: short enough for an agent.toml line."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_private_key(path: Path) -> "Ed25519PrivateKey":
    """Load a PEM Ed25519 private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_public_key_b64(text: str) -> PublicKey:
    """Load a raw base64 Ed25519 public key (as written by `public_key_b64`)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not a base64 Ed25519 public key (32 bytes): {exc}") from exc
    if len(raw) != 32:
        raise ValueError(f"not a base64 Ed25519 public key (32 bytes): it has {len(raw)} bytes")
    if _ed25519.decode_point(raw) is None:
        raise ValueError("not a base64 Ed25519 public key: the 32 bytes are not a point of the curve")
    return PublicKey(raw)


class Signer:
    """Seals bodies into signed envelopes with the controller's private key."""

    def __init__(self, key: "Ed25519PrivateKey") -> None:
        self._key = key
        self.public_key = key.public_key()

    def seal(self, *, kind: str, device: str, seq: int, body: dict[str, Any], issued_at: datetime) -> bytes:
        """Return the signed envelope as JSON bytes, ready to publish."""
        unsigned = {
            "v": ENVELOPE_VERSION,
            "type": kind,
            "device": device,
            "seq": seq,
            "issued_at": format_utc(issued_at),
            "body": body,
        }
        return self._signed(unsigned)

    def seal_area(
        self,
        *,
        kind: str,
        area: str,
        targets: list[str],
        seq: int,
        body: dict[str, Any],
        issued_at: datetime,
    ) -> bytes:
        """Return a signed area envelope for the `targets` among the devices of `area`."""
        unsigned = {
            "v": ENVELOPE_VERSION,
            "type": kind,
            "area": area,
            "targets": sorted(targets),
            "seq": seq,
            "issued_at": format_utc(issued_at),
            "body": body,
        }
        return self._signed(unsigned)

    def _signed(self, unsigned: dict[str, Any]) -> bytes:
        sig = base64.b64encode(self._key.sign(canonical_json(unsigned))).decode("ascii")
        return canonical_json({**unsigned, "sig": sig})


class Verifier:
    """Opens envelopes for one device, checking version, device and signature."""

    def __init__(
        self, public_keys: list[PublicKey], device: str, *, check: SignatureCheck | None = None
    ) -> None:
        # Several keys are accepted during a key rotation: the old one until every plan is re-signed.
        if not public_keys:
            raise ValueError("a Verifier needs at least one public key")
        self._keys = public_keys
        self._device = device
        self._check: SignatureCheck = _ed25519.verify if check is None else check

    def open(self, payload: bytes) -> Envelope:
        """Verify a payload and return its envelope, or raise ProtocolError with the reason."""
        data = decode_json(payload)
        f = Fields(data, "envelope")
        version = f.integer("v")
        kind = f.text("type", max_len=32)
        device = f.text("device", max_len=128)
        seq = f.integer("seq")
        issued_at = f.time("issued_at")
        body = f.obj("body")
        sig_text = f.text("sig", max_len=256)
        f.done()
        if version != ENVELOPE_VERSION:
            raise ProtocolError("bad_version", f"envelope v={version}; this side speaks v={ENVELOPE_VERSION}")
        if device != self._device:
            raise ProtocolError("foreign_device", f"envelope for device {device!r}, this is {self._device!r}")
        self._verify(data, sig_text)
        return Envelope(type=kind, device=device, seq=seq, issued_at=issued_at, body=dict(body))

    def open_area(self, payload: bytes, area: str) -> AreaEnvelope:
        """Verify an area envelope received on `area`'s topic and naming this device among its targets.

        Raises ProtocolError: `not_targeted` (checked before the signature: nothing for this device),
        `foreign_area` (signed for another area's topic), or any reason `open` gives.
        """
        data = decode_json(payload)
        f = Fields(data, "area envelope")
        version = f.integer("v")
        kind = f.text("type", max_len=32)
        signed_area = f.text("area", max_len=64)
        targets = f.array("targets", max_items=MAX_TARGETS)
        seq = f.integer("seq")
        issued_at = f.time("issued_at")
        body = f.obj("body")
        sig_text = f.text("sig", max_len=256)
        f.done()
        if version != ENVELOPE_VERSION:
            raise ProtocolError("bad_version", f"envelope v={version}; this side speaks v={ENVELOPE_VERSION}")
        if signed_area != area:
            raise ProtocolError("foreign_area", f"envelope for area {signed_area!r} on the topic of {area!r}")
        if self._device not in targets:
            raise ProtocolError("not_targeted", f"area {area} message seq {seq} is not for {self._device}")
        self._verify(data, sig_text)
        return AreaEnvelope(type=kind, area=area, seq=seq, issued_at=issued_at, body=dict(body))

    def _verify(self, data: dict[str, Any], sig_text: str) -> None:
        """Check `sig` over the canonical JSON of everything else with any of the accepted keys."""
        try:
            sig = base64.b64decode(sig_text, validate=True)
        except binascii.Error as exc:
            raise ProtocolError("bad_signature", "sig is not base64") from exc
        signed = canonical_json({k: v for k, v in data.items() if k != "sig"})
        if not any(self._check(key.raw, signed, sig) for key in self._keys):
            raise ProtocolError("bad_signature", "signature does not verify with the controller's public key")
