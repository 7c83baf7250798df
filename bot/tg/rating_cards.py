"""Event evaluation in chat: the attendee's prompt (1–5 stars) and the organisers' results."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.outreach.events import get_event
from bot.services.outreach.ratings import RatingSummary
from bot.tg import keyboards as kb
from bot.tg.callbacks_events import EventRateCb
from bot.tg.render import Rendered, renderer


def stars_markup(event_id: int) -> InlineKeyboardMarkup:
    return kb.rows(
        [
            kb.button("⭐" * n, EventRateCb(action="star", event_id=event_id, arg=str(n)).pack())
            for n in (1, 2, 3)
        ],
        [
            kb.button("⭐" * n, EventRateCb(action="star", event_id=event_id, arg=str(n)).pack())
            for n in (4, 5)
        ],
    )


def comment_markup(t: Translator, event_id: int) -> InlineKeyboardMarkup:
    return kb.rows(
        [
            kb.button(
                t("events.rating.add_comment"), EventRateCb(action="cmt", event_id=event_id).pack()
            ),
            kb.button(
                t("events.rating.no_comment"), EventRateCb(action="skip", event_id=event_id).pack()
            ),
        ]
    )


def results_text(t: Translator, summary: RatingSummary) -> str:
    if not summary.count:
        return t("events.rating.results_none", id=summary.event_id, title=summary.title)
    lines = [
        t(
            "events.rating.results_head",
            id=summary.event_id,
            title=summary.title,
            count=summary.count,
            present=summary.present,
            average=f"{summary.average:.1f}",
        )
    ]
    for stars in sorted(summary.histogram, reverse=True):
        lines.append(f"{'⭐' * stars} {summary.histogram[stars]}")
    if summary.comments:
        lines.append(t("events.rating.comments"))
        lines += [f"· {c}" for c in summary.comments[:20]]
    return "\n".join(lines)[:4000]


@renderer("events.rate_prompt")
async def _prompt(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    try:
        event = await get_event(session, int(params["event_id"]))
    except UserError:
        return None
    text = t("events.rating.prompt", id=event.id, title=event.title)
    return Rendered(text, stars_markup(event.id))
