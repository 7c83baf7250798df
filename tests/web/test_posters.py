"""Poster downloads on the dashboard: in scope only, both formats, kind refusals."""

from __future__ import annotations

import io

import numpy as np
import zxingcpp
from PIL import Image

from tests.web.conftest import Web


def _links(png: bytes) -> set[str]:
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.uint8)
    return {r.text for r in zxingcpp.read_barcodes(grey)}


async def test_grid_staff_download_their_grids_posters_only(web: Web) -> None:
    client = await web.logged_in(web.g01_staff)
    try:
        listing = await (await client.get("/posters")).text()
        assert "/posters/G01?format=pdf" in listing and "G02" not in listing
        png = await client.get("/posters/G01", params={"building": "8", "format": "png"})
        assert png.status == 200 and png.content_type == "image/png"
        assert 'filename="poster-G01-8.png"' in png.headers["Content-Disposition"]
        links = _links(await png.read())
        assert "https://t.me/wishbot_demo_bot?start=g_G01_8" in links
        assert any(link.startswith("http://127.0.0.1:8080/h5?g=G01&b=8&s=") for link in links)
        pdf = await client.get("/posters/G01")
        assert pdf.status == 200 and (await pdf.read()).startswith(b"%PDF")
        assert (await client.get("/posters/G02")).status == 404  # another grid's
        bad = await client.get("/posters/G01", params={"building": "8栋"})
        assert bad.status == 400 and "8栋" in await bad.text()
        assert (await client.get("/posters/G01", params={"format": "gif"})).status == 400
    finally:
        await client.close()


async def test_posters_need_a_login(web: Web) -> None:
    client = await web.client()
    try:
        response = await client.get("/posters/G01", allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == "/login"
    finally:
        await client.close()


async def test_community_staff_see_every_grid(web: Web) -> None:
    client = await web.logged_in(web.admin)
    try:
        listing = await (await client.get("/posters")).text()
        assert "/posters/G01?" in listing and "/posters/G02?" in listing
        assert (await client.get("/posters/G02", params={"format": "png"})).status == 200
    finally:
        await client.close()
