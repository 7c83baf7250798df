"""The check-in QR code decodes back to the deep link (zxing-cpp, a test-only decoder)."""

from __future__ import annotations

import numpy as np
import png as pypng
import zxingcpp  # the dev extra "zxing-cpp": decodes QR codes, in tests only

from bot import qr


def decode_qr(data: bytes) -> list[str]:
    """Every QR code found in a PNG image (any bit depth, greyscale or colour)."""
    width, height, rows, _info = pypng.Reader(bytes=data).asRGBA8()
    pixels = np.vstack([np.asarray(row, dtype=np.uint8) for row in rows])
    grey = pixels.reshape(height, width, 4)[:, :, :3].mean(axis=2).astype(np.uint8)
    return [result.text for result in zxingcpp.read_barcodes(grey)]


def test_the_png_is_a_png_that_decodes_to_the_link() -> None:
    link = qr.checkin_link("wishbot_demo_bot", "Ab-9_xyzQRst")
    data = qr.png(link)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_qr(data) == ["https://t.me/wishbot_demo_bot?start=ci_Ab-9_xyzQRst"]
