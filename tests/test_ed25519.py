"""The agent's plain-Python Ed25519 verifier against RFC 8032's vectors and against cryptography's signer."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import _ed25519
from protocol.signing import generate_private_key, load_public_key_b64

# RFC 8032 §7.1, tests 1-3 and the SHA(abc) one: (public key, message, signature).
VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]  # fmt: skip
L = 2**252 + 27742317777372353535851937790883648493


@pytest.mark.parametrize(("public", "message", "signature"), VECTORS)
def test_rfc_8032_vectors_verify(public: str, message: str, signature: str) -> None:
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert _ed25519.verify(pk, msg, sig)
    assert not _ed25519.verify(pk, msg + b"\0", sig)


def test_non_canonical_s_is_refused() -> None:
    # S + L verifies in the group equation but is another encoding of the same signature: malleable.
    pk, msg, sig = (bytes.fromhex(v) for v in VECTORS[0])
    s = int.from_bytes(sig[32:], "little")
    assert not _ed25519.verify(pk, msg, sig[:32] + (s + L).to_bytes(32, "little"))


def test_keys_that_are_not_curve_points_are_refused() -> None:
    not_a_point = next(
        bytes([i]) + bytes(31) for i in range(2, 256) if _ed25519.decode_point(bytes([i]) + bytes(31)) is None
    )
    with pytest.raises(ValueError, match="not a point"):
        load_public_key_b64(base64.b64encode(not_a_point).decode())
    with pytest.raises(ValueError, match="32 bytes"):
        load_public_key_b64(base64.b64encode(bytes(31)).decode())
    assert not _ed25519.verify(not_a_point, b"", bytes(64))


@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=2000), flip=st.integers(min_value=0, max_value=64 * 8 - 1))
def test_agrees_with_cryptography(message: bytes, flip: int) -> None:
    key = generate_private_key()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = key.sign(message)
    assert _ed25519.verify(public, message, signature)
    broken = bytearray(signature)
    broken[flip // 8] ^= 1 << (flip % 8)
    assert not _ed25519.verify(public, message, bytes(broken))


def test_each_key_is_checked_against_its_own_signatures() -> None:
    # The verifier keeps a table per public key (an agent trusts two during a key rotation): no mix-ups.
    keys = [generate_private_key() for _ in range(2)]
    publics = [
        k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) for k in keys
    ]
    message = b"plan"
    signatures = [k.sign(message) for k in keys]
    for _ in range(2):
        assert _ed25519.verify(publics[0], message, signatures[0])
        assert _ed25519.verify(publics[1], message, signatures[1])
        assert not _ed25519.verify(publics[0], message, signatures[1])
        assert not _ed25519.verify(publics[1], message, signatures[0])
