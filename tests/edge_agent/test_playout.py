"""Arrival-time playout (issue 13, item 5): the production-time estimate and which samples air when.

Time is an input here: each test feeds the arrival times a connection would see (a burst on connect, then
audio at the source's rate with network jitter) and asks which samples air at given instants. A source
sample's value says which sample of the source it is, so two agents' blocks can be compared directly.
"""

import math
import random
from array import array

import pytest

from edge_agent.pcm import BLOCK_BYTES, RATE, SAMPLE_BYTES
from edge_agent.playout import BLOCK_SAMPLES, ArrivalEstimator, Timeline

FRAME = 1152  # samples per decoded MP3 frame: a connection's pieces arrive this size
ON_AIR = 1000.0  # the source made its sample 0 at this wall-clock instant


def source(first: int, last: int) -> bytes:
    """Source samples [first, last): each sample's value names it (never 0, so silence is told apart)."""
    return array("h", [k % 30000 + 1 for k in range(first, last)]).tobytes()


def values(block: bytes) -> list[int]:
    out = array("h")
    out.frombytes(block)
    return list(out)


def join(
    timeline: Timeline,
    connect: float,
    until: float,
    *,
    delay: float,
    jitter: float,
    burst_s: float = 1.0,
    seed: int = 1,
) -> int:
    """Feed what one connection receives: a burst of the last `burst_s` at `connect`, then frames as the
    source makes them, each `delay` plus up to `jitter` s late (every tenth exactly `delay`), up to `until`.

    Returns the source sample the connection started at (its stream position 0).
    """
    rng = random.Random(seed)
    edge = int((connect - ON_AIR) * RATE)
    start = edge - int(burst_s * RATE)
    for piece in range(start, edge, FRAME):
        timeline.append(source(piece, min(piece + FRAME, edge)), connect + delay)
    sent, n = edge, 0
    while ON_AIR + (sent + FRAME) / RATE + delay < until:
        late = 0.0 if n % 10 == 0 else rng.uniform(0, jitter)
        timeline.append(source(sent, sent + FRAME), ON_AIR + (sent + FRAME) / RATE + delay + late)
        sent, n = sent + FRAME, n + 1
    return start


def source_at(timeline: Timeline, at: float) -> int:
    """The source sample a block airs first (from the value of its first sample, modulo 30000)."""
    block = timeline.block(at)
    assert block is not None
    return values(block)[0] - 1


def named(sample: int) -> int:
    """What `source_at` says for a source sample."""
    return sample % 30000


def test_the_estimate_is_the_least_delayed_arrival_and_the_burst_does_not_bias_it() -> None:
    estimator = ArrivalEstimator(window_s=4.0)
    assert estimator.origin is None
    timeline = Timeline(2.0)
    start = join(timeline, connect=ON_AIR + 30.0, until=ON_AIR + 36.0, delay=0.03, jitter=0.2)
    # Stream position 0 is source sample `start`: it was made at ON_AIR + start / RATE; plus 30 ms delay.
    assert timeline._estimator.origin == pytest.approx(ON_AIR + start / RATE + 0.03, abs=1e-6)


def test_a_window_forgets_old_arrivals_so_a_late_source_moves_the_estimate() -> None:
    estimator = ArrivalEstimator(window_s=4.0)
    for second in range(5):
        estimator.feed(10.0 + second, (second + 1) * RATE)  # on time: offset 9.0
    assert estimator.origin == pytest.approx(9.0)
    for second in range(5, 10):
        estimator.feed(11.0 + second, (second + 1) * RATE)  # the source paused 1 s: offset 10.0
    assert estimator.origin == pytest.approx(10.0)


def test_agents_that_joined_at_different_live_edge_positions_air_one_sample_at_one_instant() -> None:
    early, late = Timeline(2.0), Timeline(2.0)
    first_early = join(early, connect=ON_AIR + 20.0, until=ON_AIR + 30.0, delay=0.04, jitter=0.3, seed=1)
    first_late = join(late, connect=ON_AIR + 20.437, until=ON_AIR + 30.0, delay=0.04, jitter=0.3, seed=2)
    assert first_early != first_late  # they hold different stretches of the stream
    for at in (ON_AIR + 28.0, ON_AIR + 28.1, ON_AIR + 29.5):
        # Both air the sample the source made D (+ the 40 ms least delay) ago, to the sample.
        expected = round((at - 2.0 - 0.04 - ON_AIR) * RATE)
        assert source_at(early, at) == source_at(late, at) == named(expected)


def test_without_a_common_start_an_agent_airs_from_what_it_received() -> None:
    timeline = Timeline(2.0)
    start = join(timeline, connect=ON_AIR + 10.0, until=ON_AIR + 13.0, delay=0.0, jitter=0.0)
    assert timeline.block(ON_AIR + 10.5) is None  # the burst's first sample airs at ON_AIR + 11.0
    assert source_at(timeline, ON_AIR + 11.0) == named(start)


def test_the_stream_starts_on_the_sample_of_the_common_start_with_silence_before_it() -> None:
    start_at = ON_AIR + 10.0123  # not on a block boundary
    timeline = Timeline(2.0, start_at=start_at)
    join(timeline, connect=ON_AIR + 10.2, until=ON_AIR + 14.0, delay=0.0, jitter=0.0)
    assert timeline.block(ON_AIR + 11.9) is None  # before start_at + D: nothing of the stream airs
    block = timeline.block(ON_AIR + 12.0)
    assert block is not None and len(block) == BLOCK_BYTES
    samples = values(block)
    lead = math.ceil(0.0123 * RATE)  # the silence before the first sample, to the sample
    assert samples[:lead] == [0] * lead
    assert samples[lead] - 1 == named(math.ceil(10.0123 * RATE))  # the first sample made from start_at
    assert samples[lead:] == list(range(samples[lead], samples[lead] + BLOCK_SAMPLES - lead))


def test_a_missing_stretch_airs_as_silence_and_a_block_with_no_stream_audio_is_none() -> None:
    timeline = Timeline(2.0)
    timeline.append(source(0, RATE), ON_AIR + 1.0)  # one second, made from ON_AIR
    assert timeline.ahead_s(ON_AIR + 2.5) == pytest.approx(0.5)
    tail = timeline.block(ON_AIR + 2.95)  # its last 50 ms, then nothing received
    assert tail is not None
    received = RATE - round(0.95 * RATE)
    assert 0 not in values(tail)[:received] and values(tail)[received:] == [0] * (BLOCK_SAMPLES - received)
    assert timeline.waiting(ON_AIR + 3.05)
    assert timeline.block(ON_AIR + 3.05) is None and not timeline.airing  # an underrun
    assert timeline.ahead_s(ON_AIR + 3.1) == 0.0


def test_the_origin_follows_a_less_delayed_arrival_at_once_and_a_later_one_past_10_ms() -> None:
    timeline = Timeline(2.0, window_s=4.0)
    # Second k of the source arrives at ON_AIR + k + 1 + offset (its last sample made at ON_AIR + k + 1).
    offsets = [0.0, -0.002, -0.005] + [0.003] * 6 + [0.02] * 6
    aired = []
    for k, offset in enumerate(offsets):
        timeline.append(source(k * RATE, (k + 1) * RATE), ON_AIR + k + 1 + offset)
        aired.append((source_at(timeline, ON_AIR + k + 2.5), timeline.realigned))
    at = [named(round((k + 0.5 - origin) * RATE)) for k, origin in enumerate([0.0, 0.0, -0.005])]
    assert aired[:3] == [(at[0], 0), (at[1], 0), (at[2], 1)]  # 2 ms earlier holds, 5 ms earlier follows
    # 8 ms later than the origin (the window forgot the -5 ms arrival) holds; 25 ms later follows.
    assert aired[8] == (named(round((8.5 + 0.005) * RATE)), 1)
    assert aired[-1] == (named(round((14.5 - 0.02) * RATE)), 2)


def test_half_a_sample_waits_for_its_other_byte_and_the_cap_stops_the_reader() -> None:
    timeline = Timeline(2.0, cap_s=1.0)
    data = source(0, RATE)
    timeline.append(data[:101], ON_AIR + 0.5)
    assert timeline.end == 50
    timeline.append(data[101:], ON_AIR + 1.0)
    assert timeline.end == RATE and timeline.full
    assert len(data) == RATE * SAMPLE_BYTES


def test_a_segmented_source_airs_every_sample_in_order_as_a_jitter_buffer() -> None:
    """HLS: each 6 s segment becomes available once made and arrives within 0.2 s. Aired as a buffer from
    the first sample once 1 s is held: in order, nothing skipped, an underrun moves the rest later."""
    timeline = Timeline(2.0, aligned=False, prefill_s=1.0)
    quarter = 6 * RATE // 4
    reads = [(ON_AIR + 6.0 * (n // 4 + 1) + 0.05 * (n % 4 + 1), n) for n in range(20)]  # 5 segments
    heard: list[int] = []
    at = ON_AIR + 6.0
    while at < ON_AIR + 40.0:
        while reads and reads[0][0] <= at:
            _, n = reads.pop(0)
            timeline.append(source(n * quarter, (n + 1) * quarter), at)
        block = timeline.block(at)
        heard += [v for v in values(block or b"") if v]  # the source's samples, silence left out
        at += 0.1
    assert len(heard) == 20 * quarter  # every sample of the five segments aired
    assert heard == [named(p) + 1 for p in range(20 * quarter)]  # once each, in order
