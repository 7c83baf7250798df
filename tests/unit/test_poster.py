"""Posters (民情二维码): both QR codes decode from the PNG to working links; clear failures."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import zxingcpp  # the dev extra "zxing-cpp": decodes QR codes, in tests only
from PIL import Image

from bot.config import Settings
from bot.i18n import Translator
from bot.poster import FONT_PACKAGE, NoCJKFont, find_cjk_font, render, wrap
from bot.poster_cli import PosterProblem, make_poster, output_paths, poster_content
from bot.services.errors import UserError
from bot.services.outreach import posters
from bot.services.web_access import settings_signing_key


def decode_all(png: bytes | Path) -> set[str]:
    image = Image.open(png if isinstance(png, Path) else io.BytesIO(png))
    grey = np.asarray(image.convert("L"), dtype=np.uint8)
    return {result.text for result in zxingcpp.read_barcodes(grey)}


def _settings() -> Settings:
    return Settings.model_validate(
        {
            "telegram": {"username": "happy_wish_bot"},
            "community": {"name": "幸福社区", "phone": "0591-87654321"},
            "web": {"public_url": "https://wish.example.org", "secret": "poster-test"},
        }
    )


def test_png_and_pdf_carry_both_links_for_a_building(tmp_path: Path) -> None:
    settings = _settings()
    files = make_poster(settings, "G01", "8", tmp_path / "g01-8")
    assert [f.name for f in files] == ["g01-8.pdf", "g01-8.png"]
    png, pdf = files[1], files[0]
    with Image.open(png) as image:
        assert image.size == (2480, 3508)  # A4 at 300 dpi
    links = decode_all(png)
    bot_link = "https://t.me/happy_wish_bot?start=g_G01_8"
    assert bot_link in links and len(links) == 2
    (form_link,) = links - {bot_link}
    url = urlparse(form_link)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://wish.example.org/h5"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["g"] == "G01" and query["b"] == "8"
    key = settings_signing_key(settings)
    assert posters.form_signature_ok(key, posters.PosterPlace("G01", "8"), query["s"])
    # A signature does not carry over to another building or grid.
    assert not posters.form_signature_ok(key, posters.PosterPlace("G01", "9"), query["s"])
    assert not posters.form_signature_ok(key, posters.PosterPlace("G02", "8"), query["s"])
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # The QR codes are clickable in the PDF too.
    assert bot_link.encode() in data and b"/URI" in data


def test_grid_poster_without_building() -> None:
    settings = _settings()
    t = Translator("zh-CN")
    content = poster_content(settings, "G02", None, "happy_wish_bot", t)
    assert content.bot_link == "https://t.me/happy_wish_bot?start=g_G02"
    assert content.phone == "0591-87654321" and content.grid_name.startswith("第二网格")
    assert decode_all(render(content, t).png) == {content.bot_link, content.form_link}


def test_unknown_grid_and_unlinkable_building_are_refused_kindly(tmp_path: Path) -> None:
    settings = _settings()
    with pytest.raises(PosterProblem, match=r"G09.*G01, G02, G03"):
        make_poster(settings, "G09", None, tmp_path / "x.png")
    with pytest.raises(PosterProblem, match="8栋"):
        make_poster(settings, "G01", "8栋", tmp_path / "x.png")
    assert not list(tmp_path.iterdir())  # nothing written


def test_output_names() -> None:
    assert output_paths(Path("a/p.PDF")) == [Path("a/p.PDF")]
    assert output_paths(Path("p.png")) == [Path("p.png")]
    assert output_paths(Path("p")) == [Path("p.pdf"), Path("p.png")]


def test_no_cjk_font_names_the_package(tmp_path: Path) -> None:
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # draws no Chinese
    with pytest.raises(NoCJKFont, match=f"apt-get install {FONT_PACKAGE}"):
        find_cjk_font([str(tmp_path / "missing.ttc"), latin], use_fontconfig=False)


def test_start_payload_round_trip_and_limits() -> None:
    place = posters.check_place("G01", "12-3")
    assert posters.start_payload(place) == "g_G01_12-3"
    assert posters.parse_start_payload("g_G01_12-3") == place
    assert posters.parse_start_payload("g_G01") == posters.PosterPlace("G01")
    for bad in ("g_", "g_G01_8_9", "g_G0 1", "inv_x", "g_G01_"):
        assert posters.parse_start_payload(bad) is None
    with pytest.raises(UserError):
        posters.check_place("G_01", None)
    with pytest.raises(UserError):
        posters.check_place("G" * 32, "B" * 32)  # over Telegram's 64 characters


def test_wrap_keeps_lines_within_width() -> None:
    from PIL import ImageFont

    face = find_cjk_font()
    font = ImageFont.truetype(str(face.path), 100, index=face.index)
    lines = wrap("家里有小困难、小心愿？告诉社区，党员志愿者上门帮您！", font, 1000)
    assert len(lines) > 1 and all(font.getlength(line) <= 1000 for line in lines)
    assert "".join(lines) == "家里有小困难、小心愿？告诉社区，党员志愿者上门帮您！"
    english = wrap("Scan with any phone to write your wish", font, 900)
    assert all(font.getlength(line) <= 900 for line in english)
    assert " ".join(english) == "Scan with any phone to write your wish"


def test_english_poster_renders(tmp_path: Path) -> None:
    files = make_poster(_settings(), "G03", None, tmp_path / "p.png", lang="en")
    assert "https://t.me/happy_wish_bot?start=g_G03" in decode_all(files[0])


def test_cli_writes_the_files_and_refuses_kindly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WISHBOT__TELEGRAM__USERNAME", "happy_wish_bot")
    assert main(["poster", "--grid", "G01", "--building", "8", "--out", "g01.png"]) == 0
    assert capsys.readouterr().out.strip() == "g01.png"
    assert "https://t.me/happy_wish_bot?start=g_G01_8" in decode_all(tmp_path / "g01.png")
    assert main(["poster", "--grid", "G77", "--out", "x.pdf"]) == 2
    assert "G77" in capsys.readouterr().err and not (tmp_path / "x.pdf").exists()
    monkeypatch.setattr("bot.poster.FONT_CANDIDATES", ())
    monkeypatch.setattr("bot.poster._fontconfig_files", list)
    assert main(["poster", "--grid", "G01", "--out", "y.pdf"]) == 2
    assert FONT_PACKAGE in capsys.readouterr().err and not (tmp_path / "y.pdf").exists()
