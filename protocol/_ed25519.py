"""Ed25519 signature verification (RFC 8032 §5.1.7) in plain Python, for the edge agent.

Owns checking a signature against a raw 32-byte public key and nothing else: signing and key files stay
with `cryptography` on the controller. Why not `cryptography` here too: its Rust extension carries its own
OpenSSL and costs the agent ~7 MB of its 30 MB RSS budget, for a few checks an hour.

The check is the cofactorless one OpenSSL and libsodium make: R' = [S]B − [k]A, then the encoding of R'
must be the signature's R byte for byte (so an R that is not a canonical encoding of a curve point never
matches). S ≥ L and public keys that do not decode are refused. It handles only public data, so constant
time does not matter, and it is fast where it can be (issue 18: every agent checks each emergency at the
same moment, and a Pi's CPU is several times slower than this machine's):
- one pass of doublings for both scalars (Straus), each scalar in width-w non-adjacent form, so only
  about one bit in w + 1 costs an addition: ~250 doublings and ~65 additions instead of ~250 and ~250;
- the odd multiples of B (64 points, ~20 KB, made on first use) and of each public key's −A (16 points,
  kept for the few keys an agent trusts) are held in the form the addition takes directly;
- a doubling computes T only when an addition follows.
About 1.05 ms of CPU a check on this machine's x86-64 against 2.2 ms for the double-and-add it replaced
(measured one after the other, best of 5 × 40 checks); `cryptography` takes ~0.1 ms.
"""

import hashlib
from functools import cache, lru_cache
from typing import Final

_P: Final = 2**255 - 19
_L: Final = 2**252 + 27742317777372353535851937790883648493
_D: Final = -121665 * pow(121666, _P - 2, _P) % _P
_D2: Final = 2 * _D % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)
_BASE_WIDTH: Final = 8  # B's odd multiples up to 127·B
_KEY_WIDTH: Final = 6  # a key's odd multiples up to 31·(−A)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z
# A point ready to be added: (Y + X, Y − X, 2Z, 2dT), all reduced mod p.
Cached = tuple[int, int, int, int]


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key` (both raw bytes)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    key_table = _key_table(public_key)
    if key_table is None:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _encode(_double_scalar(s, k, key_table)) == signature[:32]


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


def _encode(p: Point) -> bytes:
    """The 32-byte encoding of a point (RFC 8032 §5.1.2)."""
    z_inverse = pow(p[2], _P - 2, _P)
    x, y = p[0] * z_inverse % _P, p[1] * z_inverse % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _cached(p: Point) -> Cached:
    return ((p[1] + p[0]) % _P, (p[1] - p[0]) % _P, 2 * p[2] % _P, _D2 * p[3] % _P)


def _odd_multiples(p: Point, width: int) -> tuple[Cached, ...]:
    """P, 3P, 5P, … up to (2^(width−1) − 1)·P: what a width-`width` NAF digit needs."""
    twice = _add(p, p)
    multiples = [p]
    for _ in range((1 << (width - 2)) - 1):
        multiples.append(_add(multiples[-1], twice))
    return tuple(_cached(m) for m in multiples)


@cache
def _base_table() -> tuple[Cached, ...]:
    base = decode_point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))
    assert base is not None  # noqa: S101 - the standard base point always decodes
    return _odd_multiples(base, _BASE_WIDTH)


@lru_cache(maxsize=8)  # an agent trusts one key, two during a key rotation
def _key_table(public_key: bytes) -> tuple[Cached, ...] | None:
    """The odd multiples of −A for a public key A, or None when the key is not a curve point."""
    a = decode_point(public_key)
    if a is None:
        return None
    return _odd_multiples((-a[0] % _P, a[1], a[2], -a[3] % _P), _KEY_WIDTH)


def _naf(n: int, width: int) -> list[int]:
    """The width-`width` non-adjacent form of n, least significant digit first (digits odd or 0)."""
    digits: list[int] = []
    full, half = 1 << width, 1 << (width - 1)
    while n:
        zeros = (n & -n).bit_length() - 1  # a run of zero digits at once
        if zeros:
            digits += [0] * zeros
            n >>= zeros
        digit = n & (full - 1)
        if digit >= half:
            digit -= full
        n -= digit
        digits.append(digit)
        n >>= 1
    return digits


def _double_scalar(s: int, k: int, key_table: tuple[Cached, ...]) -> Point:
    """[s]B + [k](−A) with shared doublings (the tables hold odd multiples of B and of −A)."""
    s_digits, k_digits = _naf(s, _BASE_WIDTH), _naf(k, _KEY_WIDTH)
    size = max(len(s_digits), len(k_digits))
    s_digits += [0] * (size - len(s_digits))
    k_digits += [0] * (size - len(k_digits))
    base_table = _base_table()
    x, y, z, t = 0, 1, 1, 0
    started = False
    for i in range(size - 1, -1, -1):
        ds, dk = s_digits[i], k_digits[i]
        if started:
            a = x * x % _P
            b = y * y % _P
            c = 2 * z * z % _P
            h = a + b
            e = h - (x + y) * (x + y) % _P
            g = a - b
            f = c + g
            x, y, z = e * f % _P, g * h % _P, f * g % _P
            if ds or dk:
                t = e * h % _P
        for digit, table in ((ds, base_table), (dk, key_table)):
            if not digit:
                continue
            if digit > 0:
                ypx, ymx, z2, t2d = table[digit >> 1]
            else:  # −Q: swap Y+X and Y−X, negate T
                ymx, ypx, z2, t2d = table[-digit >> 1]
                t2d = -t2d
            a = (y - x) * ymx % _P
            b = (y + x) * ypx % _P
            c = t * t2d % _P
            d = z * z2 % _P
            e, f, g, h = b - a, d - c, d + c, b + a
            x, y, z, t = e * f % _P, g * h % _P, f * g % _P, e * h % _P
            started = True
    return (x, y, z, t)
