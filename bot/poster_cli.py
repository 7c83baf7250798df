"""`wishbot poster`: a grid's (or building's) printable poster from config alone, no bot needed."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.i18n import Translator
from bot.poster import PosterContent, render
from bot.services.errors import UserError
from bot.services.outreach import posters
from bot.services.web_access import settings_signing_key

DEMO_BOT_USERNAME = "wishbot_demo_bot"


class PosterProblem(Exception):
    """A poster that cannot be made; the message says why, in the community's language."""


def poster_content(
    settings: Settings, grid_code: str, building: str | None, bot_username: str, t: Translator
) -> PosterContent:
    try:
        place = posters.check_place(grid_code, building)
    except UserError as err:
        raise PosterProblem(t(err.key, **err.params)) from err
    grid = next((g for g in settings.community.grids if g.code == grid_code), None)
    if grid is None:
        codes = ", ".join(g.code for g in settings.community.grids)
        raise PosterProblem(t("poster.unknown_grid", code=grid_code, codes=codes))
    return PosterContent(
        community=grid.community or settings.community.name,
        grid_name=grid.name,
        building=place.building,
        bot_link=posters.bot_link(bot_username, place),
        form_link=posters.form_link(settings.web.base_url, settings_signing_key(settings), place),
        phone=settings.community.phone,
    )


def output_paths(out: Path) -> list[Path]:
    """``x.pdf`` or ``x.png``: that one; any other name ``x``: both ``x.pdf`` and ``x.png``."""
    if out.suffix.lower() in (".pdf", ".png"):
        return [out]
    return [out.with_name(out.name + ".pdf"), out.with_name(out.name + ".png")]


def make_poster(
    settings: Settings,
    grid_code: str,
    building: str | None,
    out: Path,
    bot_username: str | None = None,
    lang: str | None = None,
) -> list[Path]:
    """Write the poster; returns the files written. PosterProblem or NoCJKFont when it can't."""
    t = Translator(lang or settings.community.default_language)
    username = bot_username or settings.telegram.username or DEMO_BOT_USERNAME
    rendered = render(poster_content(settings, grid_code, building, username, t), t)
    written = []
    for path in output_paths(out):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered.pdf if path.suffix.lower() == ".pdf" else rendered.png)
        written.append(path)
    return written
