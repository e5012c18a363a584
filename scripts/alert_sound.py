"""Writes the dashboard's alert sound (src/failsafe/dashboard/static/alert.wav): two short sine
tones, 8 kHz 8-bit mono, about 4 KB. Run it to regenerate the file; the output is deterministic.

    .venv/bin/python scripts/alert_sound.py
"""

from __future__ import annotations

import math
import sys
import wave
from pathlib import Path

RATE = 8000
OUT = Path(__file__).resolve().parents[1] / "src/failsafe/dashboard/static/alert.wav"


def tone(freq: float, seconds: float, volume: float = 0.6) -> bytes:
    n = int(RATE * seconds)
    fade = int(RATE * 0.01)  # 10 ms ramps: no click at either end
    out = bytearray()
    for i in range(n):
        ramp = min(1.0, i / fade, (n - 1 - i) / fade)
        sample = volume * ramp * math.sin(2 * math.pi * freq * i / RATE)
        out.append(int(128 + 127 * sample))  # 8-bit WAV samples are unsigned
    return bytes(out)


def main(path: Path = OUT) -> None:
    frames = tone(880, 0.15) + bytes([128]) * int(RATE * 0.05) + tone(1320, 0.2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(RATE)
        w.writeframes(frames)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
