"""Ed25519 signature verification (RFC 8032 §5.1.7) in plain Python, for the edge agent.

Owns checking a signature against a raw 32-byte public key and nothing else: signing and key files stay
with `cryptography` on the controller. Why not `cryptography` here too: its Rust extension carries its own
OpenSSL and costs the agent ~7 MB of its 30 MB RSS budget, for a few checks an hour. This follows the
RFC's reference code (extended coordinates, the cofactorless equation [S]B = R + [k]A, as OpenSSL does),
rejects non-canonical S (S ≥ L) and points that do not decode, and takes ~10 ms a check on x86-64.
It handles only public data, so constant time does not matter.
"""

import hashlib
from functools import cache
from typing import Final

_P: Final = 2**255 - 19
_L: Final = 2**252 + 27742317777372353535851937790883648493
_D: Final = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z
_IDENTITY: Final[Point] = (0, 1, 1, 0)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key` (both raw bytes)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = decode_point(public_key)
    r = decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _equal(_base_multiple(s), _add(r, _multiple(k, a)))


def decode_point(data: bytes) -> Point | None:
    """The curve point a 32-byte encoding stands for, or None when it is not one (RFC 8032 §5.1.3)."""
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p: Point) -> Point:
    a = p[0] * p[0] % _P
    b = p[1] * p[1] % _P
    c = 2 * p[2] * p[2] % _P
    h = a + b
    e = h - (p[0] + p[1]) * (p[0] + p[1]) % _P
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiple(n: int, p: Point) -> Point:
    """[n]P by double and add."""
    q = _IDENTITY
    while n:
        if n & 1:
            q = _add(q, p)
        p = _double(p)
        n >>= 1
    return q


@cache
def _base_powers() -> tuple[Point, ...]:
    """[2^i]B for i < 253: a fixed-base multiple then needs only additions."""
    base = decode_point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))
    assert base is not None  # noqa: S101 - the standard base point always decodes
    powers = [base]
    for _ in range(252):
        powers.append(_double(powers[-1]))
    return tuple(powers)


def _base_multiple(n: int) -> Point:
    """[n]B for the standard base point B."""
    q = _IDENTITY
    for i, power in enumerate(_base_powers()):
        if n >> i & 1:
            q = _add(q, power)
    return q


def _equal(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0
