"""QR codes as PNG bytes, pure Python (qrcode + pypng: no Pillow, nothing downloaded)."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.pure

# Large modules and a wide quiet zone: read from a phone held up to another phone's screen.
BOX_SIZE = 10
BORDER = 4


def png(data: str) -> bytes:
    """A PNG image of a QR code for ``data`` (medium error correction)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=BOX_SIZE,
        border=BORDER,
        image_factory=qrcode.image.pure.PyPNGImage,
    )
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


def checkin_link(bot_username: str, token: str) -> str:
    """The deep link a check-in QR code carries: opening it sends ``/start ci_<token>``."""
    return f"https://t.me/{bot_username}?start=ci_{token}"
