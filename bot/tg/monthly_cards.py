"""The monthly figures message: a head, then each section's lines in the reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.tg.render import Rendered, renderer


@renderer("monthly.figures")
async def _figures(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    lines = [t("monthly.head", period=params["period"], scope=params["scope"])]
    for key, values in params.get("lines") or []:
        lines.append(t(str(key), **dict(values)))
    lines.append(t("monthly.foot"))
    return Rendered("\n".join(lines)[:4000])
