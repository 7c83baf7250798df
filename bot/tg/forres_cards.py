"""What the filer (代办人) sees: a resident's notices passed on, with the in-person confirm."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User, Volunteer, Wish
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.forres.filing import RELAYED
from bot.services.notices import Notice
from bot.tg import keyboards as kb
from bot.tg.callbacks_forres import ForResCb
from bot.tg.render import Rendered, render, renderer


def confirm_markup(wish_id: int) -> kb.InlineKeyboardMarkup:
    stars = [
        kb.button("⭐" * n, ForResCb(action="conf", wish_id=wish_id, arg=str(n)).pack())
        for n in range(1, 6)
    ]
    return kb.rows(stars[:3], stars[3:])


@renderer(RELAYED)
async def _relayed(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    kind = str(params["kind"])
    inner = await render(session, app, t, Notice(kind, dict(params["params"])))
    if inner is None:
        return None
    resident = await session.get(User, int(params["resident_id"]))
    name = (resident.display_name if resident else None) or t("forres.a_resident")
    head = t("forres.update_header", name=name)
    wish_id = params.get("id")
    if kind == "task.claimed_resident" and isinstance(wish_id, int):
        # The resident's text offers a button to message the volunteer: theirs, not passed on.
        volunteer = await session.scalar(
            select(Volunteer.name)
            .join(Wish, Wish.volunteer_id == Volunteer.user_id)
            .where(Wish.id == wish_id)
        )
        claimed = t("forres.claimed", id=wish_id, name=volunteer or t("task.a_volunteer"))
        return Rendered(f"{head}\n{claimed}")
    # The resident's own buttons (rate, message the volunteer) are theirs: not passed on.
    if kind == "task.done_resident" and isinstance(params.get("id"), int):
        text = f"{head}\n{inner.text}\n\n{t('forres.confirm_in_person', name=name)}"
        return Rendered(text, confirm_markup(int(params["id"])), inner.photo)
    return Rendered(f"{head}\n{inner.text}", None, inner.photo)
