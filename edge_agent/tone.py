"""A test tone as a WAV file, written with the stdlib `wave` module (the `test_tone` command).

Owns only the tone file; it must not play anything.
"""

import math
import struct
import wave
from pathlib import Path

RATE = 22050


def write_tone(path: Path, *, seconds: float, frequency: float = 1000.0, level: float = 0.5) -> Path:
    """Write a mono 16-bit sine tone with short fades (no clicks on the speaker) and return its path."""
    frames = int(RATE * seconds)
    fade = min(frames // 2, RATE // 50)
    amplitude = 32767 * level
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - n) / fade) if fade else 1.0
        samples += struct.pack("<h", int(amplitude * envelope * math.sin(2 * math.pi * frequency * n / RATE)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(samples))
    return path
