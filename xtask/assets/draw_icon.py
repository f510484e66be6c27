"""Draws public/herald-icon.png: Herald's 512x512 Slack app icon (opaque,
square, as Slack asks), with integer geometry and no image library.
Run from the workspace root: python3 xtask/assets/draw_icon.py"""
import struct
import zlib

W = H = 512
BG, FG, DOT = (0x4A, 0x2B, 0xC2), (255, 255, 255), (0xF5, 0xA5, 0x24)


def colour(x, y):
    if (150 <= x < 198 or 314 <= x < 362) and 150 <= y < 362:
        return FG  # the H's uprights
    if 198 <= x < 314 and 232 <= y < 280:
        return FG  # its crossbar
    if (x - 400) ** 2 + (y - 112) ** 2 <= 52 * 52:
        return DOT  # the notification dot
    return BG


rows = b"".join(b"\x00" + bytes(v for x in range(W) for v in colour(x, y)) for y in range(H))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows, 9))
    + chunk(b"IEND", b"")
)
with open("public/herald-icon.png", "wb") as f:
    f.write(png)
