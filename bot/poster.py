"""Printable A4 posters (民情二维码): large Chinese type, two QR codes, the community's phone.

The page is drawn once with Pillow at 300 dpi using a CJK font the system has (Debian:
fonts-noto-cjk); the PNG is that image and the PDF (reportlab) places it on an A4 page with
the two QR codes also clickable. Noto CJK ships PostScript-outline fonts, which reportlab cannot
embed, so the PDF carries the rendered page rather than its own text.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from bot.i18n import Translator

FONT_PACKAGE = "fonts-noto-cjk"
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_PROBE = "微心愿"

DPI = 300
WIDTH, HEIGHT = 2480, 3508  # A4 at 300 dpi
MARGIN = 150
RED = (200, 16, 46)
INK = (30, 30, 30)
GREY = (90, 90, 90)
WHITE = (255, 255, 255)
QR_SIZE = 960


class NoCJKFont(RuntimeError):
    """No font that can draw Chinese: the message names the package to install."""


@dataclass(frozen=True, slots=True)
class PosterContent:
    community: str
    grid_name: str
    building: str | None
    bot_link: str
    form_link: str
    phone: str


@dataclass(frozen=True, slots=True)
class Rendered:
    png: bytes
    pdf: bytes
    # Where each QR code is on the page, in pixels (left, top, size): form first, then bot.
    qr_boxes: tuple[tuple[int, int, int], tuple[int, int, int]]


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    index: int


def _draws_chinese(path: Path, index: int) -> bool:
    try:
        font = ImageFont.truetype(str(path), 48, index=index)
    except OSError:
        return False
    # A font without Chinese draws the same "missing" box for every character.
    drawn = {bytes(font.getmask(char)) for char in _PROBE}
    return len(drawn) == len(_PROBE) and font.getmask(_PROBE).getbbox() is not None


def _best_face(path: Path) -> FontFile | None:
    """In a collection, the Simplified Chinese face when there is one, else the first."""
    first: FontFile | None = None
    for index in range(16):
        try:
            font = ImageFont.truetype(str(path), 48, index=index)
        except OSError:
            break
        family = font.getname()[0] or ""
        if first is None:
            first = FontFile(path, index)
        if family.endswith(" SC") or "SC" in family.split():
            return FontFile(path, index)
    return first


def _fontconfig_files() -> list[str]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh-cn", "file"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.strip().rstrip(":") for line in out.splitlines() if line.strip()})
    # Sans and bold first: posters are read from across a stairwell.
    return sorted(files, key=lambda f: ("Sans" not in f, "Bold" not in f, f))


def find_cjk_font(candidates: Iterable[str] | None = None, use_fontconfig: bool = True) -> FontFile:
    """A font file that draws Chinese, or NoCJKFont saying which package provides one."""
    listed = FONT_CANDIDATES if candidates is None else candidates
    tried = [*listed, *(_fontconfig_files() if use_fontconfig else [])]
    for name in tried:
        path = Path(name)
        if not path.is_file():
            continue
        face = _best_face(path)
        if face is not None and _draws_chinese(face.path, face.index):
            return face
    raise NoCJKFont(
        "no font that can draw Chinese was found; install one, e.g. on Debian/Ubuntu: "
        f"apt-get install {FONT_PACKAGE}"
    )


_WIDE = r"\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"  # CJK, its punctuation, full-width forms
_TOKEN = re.compile(rf"[{_WIDE}]|[^\s{_WIDE}]+\s*|\s+")


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than ``width``: Chinese breaks between characters, other text at spaces."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            if line and font.getlength((line + token).rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        lines.append(line.rstrip())
    return lines


class _Page:
    def __init__(self, font: FontFile) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self._font = font

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self._font.path), size, index=self._font.index)

    def text(
        self,
        y: int,
        text: str,
        size: int,
        fill: tuple[int, int, int] = INK,
        left: int = MARGIN,
        width: int = WIDTH - 2 * MARGIN,
        gap: float = 1.35,
    ) -> int:
        """Centred, wrapped text from ``y`` within [left, left + width); returns the next y."""
        font = self.font(size)
        for line in wrap(text, font, width):
            line_width = font.getlength(line)
            self.draw.text((left + (width - line_width) / 2, y), line, font=font, fill=fill)
            y += int(size * gap)
        return y

    def qr(self, left: int, top: int, data: str) -> None:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()  # quiet zone included
        box = QR_SIZE // len(matrix)
        offset = (QR_SIZE - box * len(matrix)) // 2
        for row, cells in enumerate(matrix):
            for col, dark in enumerate(cells):
                if dark:
                    x, y = left + offset + col * box, top + offset + row * box
                    self.draw.rectangle((x, y, x + box - 1, y + box - 1), fill=(0, 0, 0))


def render(content: PosterContent, t: Translator, font: FontFile | None = None) -> Rendered:
    page = _Page(font or find_cjk_font())
    page.draw.rectangle((0, 0, WIDTH, 720), fill=RED)
    y = page.text(110, t("poster.title"), 300, WHITE, gap=1.2)
    where = (
        t(
            "poster.place_building",
            community=content.community,
            grid=content.grid_name,
            building=content.building,
        )
        if content.building
        else t("poster.place", community=content.community, grid=content.grid_name)
    )
    page.text(y, where, 90, WHITE)
    y = page.text(820, t("poster.tagline"), 110)
    y = page.text(y + 20, t("poster.examples"), 72, GREY)

    top = max(y + 60, 1500)
    gap = WIDTH - 2 * MARGIN - 2 * QR_SIZE
    lefts = (MARGIN, MARGIN + QR_SIZE + gap)
    page.qr(lefts[0], top, content.form_link)
    page.qr(lefts[1], top, content.bot_link)
    label_y = top + QR_SIZE + 30
    ends = [
        page.text(label_y, t("poster.qr_web"), 76, left=lefts[0] - 40, width=QR_SIZE + 80),
        page.text(label_y, t("poster.qr_bot"), 76, left=lefts[1] - 40, width=QR_SIZE + 80),
    ]
    y = max(ends) + 80
    phone_text = t("poster.phone", phone=content.phone) if content.phone else t("poster.no_phone")
    y = page.text(y, phone_text, 110, RED)
    page.text(max(y + 40, HEIGHT - 420), t("poster.footer"), 64, GREY)

    png_buffer = io.BytesIO()
    page.image.save(png_buffer, format="PNG", dpi=(DPI, DPI), optimize=True)
    boxes = ((lefts[0], top, QR_SIZE), (lefts[1], top, QR_SIZE))
    pdf = _pdf(page.image, boxes, (content.form_link, content.bot_link), t("poster.title"))
    return Rendered(png=png_buffer.getvalue(), pdf=pdf, qr_boxes=boxes)


def _pdf(
    image: Image.Image,
    boxes: Sequence[tuple[int, int, int]],
    links: Sequence[str],
    title: str,
) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(title)
    page_w, page_h = A4
    pdf.drawImage(ImageReader(image), 0, 0, width=page_w, height=page_h)
    scale = page_w / WIDTH
    for (left, top, size), link in zip(boxes, links, strict=True):
        x0, y1 = left * scale, page_h - top * scale
        pdf.linkURL(link, (x0, y1 - size * scale, x0 + size * scale, y1), relative=0)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
