"""An emulated network link for the benches: a TCP proxy that paces and delays each connection's data.

Owns the proxy (`serve`, run in its own process by `EmulatedLink`, so its work does not share a GIL with
the controller or the simulated agents). It knows nothing of loaxa: it forwards bytes between a client and
one target, and must not touch the processes on either side.

What each accepted connection gets, as if it had its own link to the target:
- rate: the target's data reaches the client at no more than `kbit` kbit/s, paced in slices of 10 ms
  worth (a token bucket one tick deep: an idle link earns at most one tick of credit). The client's data
  towards the target is not rate-limited (requests and MQTT messages are small);
- delay: the data of each direction arrives `rtt_ms / 2` after it left; and the client's first data
  leaves no sooner than one RTT after the connection opened (the TCP handshake a real link costs: here
  the client's connect completes at once on loopback).

What it does not model: a capacity shared between connections (a cell or a backhaul that all devices
split: here every connection has its full rate whatever the others do), loss and retransmissions,
jitter, and TCP's own dynamics over that RTT (slow start, window limits): both of the proxy's sockets
are loopback, so the ends' TCP never sees the delay, only data arriving later and no faster than the rate.

    python bench/emulated_link.py --target 127.0.0.1:8080 --kbit 20000 --rtt-ms 60

prints `port N` once it listens on 127.0.0.1:N, and serves until its stdin closes.
"""

import argparse
import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Final

import psutil

TICK_S: Final = 0.01
_READ: Final = 64 * 1024
_BACKLOG: Final = 4096  # a thousand simulated agents may connect at the same instant


@dataclass(frozen=True)
class Link:
    """A link's settings: the rate towards the client (None: unlimited) and the round-trip time."""

    kbit: float | None
    rtt_ms: float = 0.0

    @property
    def bytes_per_s(self) -> float | None:
        """The rate towards the client in bytes per second (None: unlimited)."""
        return None if self.kbit is None else self.kbit * 1000 / 8

    def describe(self) -> str:
        """The settings in words, for a bench's output."""
        rate = "no rate limit" if self.kbit is None else f"{self.kbit:,.0f} kbit/s per connection"
        return f"{rate}, RTT {self.rtt_ms:g} ms"

    def transfer_s(self, size: int) -> float:
        """The least time one request for `size` bytes can take over the link (handshake, request, data)."""
        rate = self.bytes_per_s
        return 2 * self.rtt_ms / 1000 + (0.0 if rate is None else size / rate)


@dataclass
class Pacer:
    """Lets data leave at `bytes_per_s` in slices of one tick's worth; an idle link earns one tick."""

    bytes_per_s: float
    _next: float = field(default=0.0, init=False)  # when the next slice may leave, in event-loop time

    @property
    def slice_bytes(self) -> int:
        """How much leaves at once."""
        return max(1, int(self.bytes_per_s * TICK_S))

    async def leave(self, size: int) -> float:
        """Wait until `size` bytes may leave; returns when they left (event-loop time)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._next = max(self._next, now - TICK_S)
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next += size / self.bytes_per_s
        return loop.time()


async def _feed(
    source: asyncio.StreamReader,
    in_flight: "asyncio.Queue[tuple[float, bytes]]",
    *,
    pacer: Pacer | None,
    delay_s: float,
    not_before: float,
) -> None:
    """Read what one side sends and put it in flight with its arrival time; an empty piece is the EOF."""
    loop = asyncio.get_running_loop()
    while data := await source.read(_READ):
        if pacer is None:
            in_flight.put_nowait((max(loop.time(), not_before) + delay_s, data))
            continue
        for start in range(0, len(data), pacer.slice_bytes):
            piece = data[start : start + pacer.slice_bytes]
            in_flight.put_nowait((await pacer.leave(len(piece)) + delay_s, piece))
    in_flight.put_nowait((max(loop.time(), not_before) + delay_s, b""))


async def _carry(in_flight: "asyncio.Queue[tuple[float, bytes]]", sink: asyncio.StreamWriter) -> None:
    """Hand what is in flight to the other side when it arrives (arrival times never go back)."""
    loop = asyncio.get_running_loop()
    while True:
        arrives, data = await in_flight.get()
        if (wait := arrives - loop.time()) > 0:
            await asyncio.sleep(wait)
        if not data:
            if sink.can_write_eof():
                sink.write_eof()
            return
        sink.write(data)
        await sink.drain()


async def _connection(
    client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter, *, link: Link, host: str, port: int
) -> None:
    """One client's link to the target: both directions until both ended, or either side failed."""
    opened = asyncio.get_running_loop().time()
    try:
        server_in, server_out = await asyncio.open_connection(host, port)
    except OSError:
        client_out.close()
        return
    delay_s = link.rtt_ms / 2000
    rate = link.bytes_per_s
    up: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    down: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    tasks = [
        asyncio.create_task(
            _feed(client_in, up, pacer=None, delay_s=delay_s, not_before=opened + 2 * delay_s)
        ),
        asyncio.create_task(_carry(up, server_out)),
        asyncio.create_task(
            _feed(
                server_in, down, pacer=None if rate is None else Pacer(rate), delay_s=delay_s, not_before=0.0
            )
        ),
        asyncio.create_task(_carry(down, client_out)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        # A side that reset or went away ends the whole connection, as it would end a real one.
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in (client_out, server_out):
            writer.close()


async def serve(link: Link, target_host: str, target_port: int, ready: Callable[[int], None]) -> None:
    """Listen on a free loopback port (told to `ready`) and link every connection to the target."""
    server = await asyncio.start_server(
        partial(_connection, link=link, host=target_host, port=target_port), "127.0.0.1", 0, backlog=_BACKLOG
    )
    ready(server.sockets[0].getsockname()[1])
    await asyncio.to_thread(sys.stdin.buffer.read)  # until the bench closes our stdin (or dies)
    # Not `wait_closed`: it would wait for the open connections (the agents' MQTT), which asyncio.run
    # cancels when this returns.
    server.close()


def _announce(port: int) -> None:
    print(f"port {port}", flush=True)


class EmulatedLink:
    """A proxy process on a free loopback port towards `target_port`, as a context manager."""

    def __init__(self, target_port: int, link: Link, target_host: str = "127.0.0.1") -> None:
        self.link = link
        self._command = [
            *(sys.executable, __file__, "--target", f"{target_host}:{target_port}"),
            *("--rtt-ms", str(link.rtt_ms)),
            *(() if link.kbit is None else ("--kbit", str(link.kbit))),
        ]
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> "EmulatedLink":
        return self.start()

    def start(self) -> "EmulatedLink":
        """Start the proxy process and wait until it listens (`port`)."""
        self._process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("port "):
            self.close()
            raise RuntimeError(f"the emulated link did not start (exit {self._process.poll()}): {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def cpu_s(self) -> float:
        """CPU seconds the proxy process used so far (user and system)."""
        assert self._process is not None
        times = psutil.Process(self._process.pid).cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        """Stop the proxy: close its stdin, then kill it if it has not ended within 10 s."""
        if self._process is None:
            return
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def main() -> int:
    """The proxy process: `--target HOST:PORT [--kbit K] [--rtt-ms R]`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--kbit", type=float, help="rate towards the client per connection (default: none)")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time added (default 0)")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    asyncio.run(serve(Link(args.kbit, args.rtt_ms), host, int(port), _announce))
    return 0


if __name__ == "__main__":
    sys.exit(main())
