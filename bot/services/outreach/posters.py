"""The links a grid's poster (民情二维码) carries: the bot with the grid chosen, and the web form.

The bot link is ``https://t.me/<bot>?start=g_<grid>[_<building>]``; Telegram allows only
``A-Za-z0-9_-`` and 64 characters in a start parameter, so grid codes and buildings printed on a
poster are limited to letters, digits and ``-`` (the ``_`` separates them). The web form link
carries the same grid and building, HMAC-signed with the web secret, so a form cannot be opened
for a made-up grid or building.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.services.errors import UserError

PAYLOAD_PREFIX = "g_"
START_PARAM_MAX = 64
_PART = re.compile(r"^[A-Za-z0-9-]{1,32}$")
FORM_PATH = "/h5"


@dataclass(frozen=True, slots=True)
class PosterPlace:
    """Where a poster hangs: a grid's code and, optionally, one building in it."""

    grid: str
    building: str | None = None


def check_place(grid: str, building: str | None) -> PosterPlace:
    """A place fit for a start parameter, or UserError naming the problem."""
    if not _PART.match(grid):
        raise UserError("poster.bad_grid_code", code=grid)
    if building is not None and not _PART.match(building):
        raise UserError("poster.bad_building", building=building)
    place = PosterPlace(grid, building)
    if len(start_payload(place)) > START_PARAM_MAX:
        raise UserError("poster.too_long")
    return place


def start_payload(place: PosterPlace) -> str:
    tail = f"_{place.building}" if place.building else ""
    return f"{PAYLOAD_PREFIX}{place.grid}{tail}"


def parse_start_payload(payload: str) -> PosterPlace | None:
    """``g_G01`` or ``g_G01_8`` back to the place; None for anything else."""
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    parts = payload.removeprefix(PAYLOAD_PREFIX).split("_")
    if not 1 <= len(parts) <= 2 or not all(_PART.match(p) for p in parts):
        return None
    return PosterPlace(parts[0], parts[1] if len(parts) == 2 else None)


def bot_link(bot_username: str, place: PosterPlace) -> str:
    return f"https://t.me/{bot_username}?start={start_payload(place)}"


def form_signature(key: bytes, place: PosterPlace) -> str:
    value = f"h5:{place.grid}:{place.building or ''}"
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:20]


def form_link(base_url: str, key: bytes, place: PosterPlace) -> str:
    query = {"g": place.grid}
    if place.building:
        query["b"] = place.building
    query["s"] = form_signature(key, place)
    return f"{base_url.rstrip('/')}{FORM_PATH}?{urlencode(query)}"


def form_signature_ok(key: bytes, place: PosterPlace, signature: str) -> bool:
    return hmac.compare_digest(form_signature(key, place), signature)
