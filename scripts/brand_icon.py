"""Draw brand/icon.png and icon@2x.png: a gear with an RFID fob (no dependencies).

Usage: python3 scripts/brand_icon.py custom_components/makerspace_hub/brand
"""

import math
from pathlib import Path
import struct
import sys
import zlib


def render(size):
    ss = 3
    px = bytearray()
    for y in range(size):
        px.append(0)
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    u = (x + (sx + 0.5) / ss) / size * 2 - 1
                    v = (y + (sy + 0.5) / ss) / size * 2 - 1
                    c = shade(u, v)
                    for i in range(4):
                        acc[i] += c[i]
            px.extend(int(a / (ss * ss)) for a in acc)
    return px


def rounded_square(u, v, r=0.28):
    qx, qy = max(abs(u) - (1 - r), 0), max(abs(v) - (1 - r), 0)
    return math.hypot(qx, qy) <= r


def gear(u, v):
    ang = math.atan2(v, u)
    rad = math.hypot(u, v)
    teeth = 8
    t = (ang * teeth / (2 * math.pi)) % 1
    outer = 0.70 if 0.18 < t < 0.62 else 0.56
    return 0.30 < rad < outer


def shade(u, v):
    if not rounded_square(u * 1.02, v * 1.02):
        return (0, 0, 0, 0)
    base = (24, 110, 120, 255)
    if gear(u, v + 0.0):
        return (255, 255, 255, 255)
    # an RFID fob in the middle of the gear
    if math.hypot(u, v) < 0.18:
        return (255, 183, 3, 255)
    return base


def png(size, path):
    raw = render(size)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(data)


png(256, sys.argv[1] + "/icon.png")
png(512, sys.argv[1] + "/icon@2x.png")
