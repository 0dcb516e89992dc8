"""The benches' emulated link (bench/emulated_link.py): a real proxy process between real loopback sockets.

The proxy's pacing and delays guarantee lower bounds on time, which is what these tests check (no upper
bound: the machine is shared); the bytes must come through unchanged in both directions.
"""

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bench.emulated_link import EmulatedLink, Link


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A TCP server on loopback that sends back whatever each client sends, then closes when it does."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(65536):
                    connection.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (closing alone does not, on Linux)
    listener.close()
    thread.join(5)


def _exchange(port: int, payload: bytes) -> tuple[bytes, float]:
    """Connect, send the payload, half-close, read until EOF; (what came back, seconds from connect)."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received), time.monotonic() - began


def test_a_connection_gets_no_more_than_its_rate_and_every_byte_unchanged(echo_port: int) -> None:
    payload = os.urandom(256 * 1024)
    with EmulatedLink(echo_port, Link(kbit=2000)) as link:
        received, seconds = _exchange(link.port, payload)
    assert received == payload
    # 262,144 bytes at 250,000 bytes/s: 1.05 s, less the one tick of credit an idle link starts with.
    assert seconds >= 1.0


def test_a_round_trip_costs_the_handshake_and_the_data_one_rtt_each(echo_port: int) -> None:
    with EmulatedLink(echo_port, Link(kbit=None, rtt_ms=100)) as link:
        received, seconds = _exchange(link.port, b"ping")
    assert received == b"ping"
    assert seconds >= 0.2
