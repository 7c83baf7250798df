"""Where the staff review cards of a wish were sent, so that a review done anywhere (a bot
button, the web dashboard) edits every card to the wish's current state and buttons."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User, WishStaffCard
from bot.db.tx import begin_write
from bot.services.context import AppContext
from bot.services.notices import Notice, SentRef

log = logging.getLogger(__name__)
REVIEW_KIND = "staff.wish_review"


async def send_review_cards(
    app: AppContext, session: AsyncSession, wish_id: int, staff_ids: list[int]
) -> None:
    """Send the review card to each staff member and remember where it landed."""
    sent: list[tuple[int, SentRef]] = []
    for staff_id in staff_ids:
        ref = await app.notifier.notify(staff_id, Notice(REVIEW_KIND, {"id": wish_id}))
        if ref is not None:
            sent.append((staff_id, ref))
    if not sent:
        return
    languages = dict(
        (await session.execute(select(User.id, User.language).where(User.id.in_(staff_ids)))).all()
    )
    await begin_write(session)
    for staff_id, ref in sent:
        session.add(
            WishStaffCard(
                wish_id=wish_id,
                user_id=staff_id,
                chat_id=ref.chat_id,
                message_id=ref.message_id,
                language=languages.get(staff_id, app.settings.community.default_language),
            )
        )
    await session.commit()


async def refresh_review_cards(app: AppContext, wish_id: int) -> int:
    """Edit every review card of the wish to show its state now; returns how many were edited."""
    async with app.sessions() as session:
        cards = list(
            await session.scalars(select(WishStaffCard).where(WishStaffCard.wish_id == wish_id))
        )
    edited = 0
    for card in cards:
        ok = await app.notifier.edit(
            SentRef(card.chat_id, card.message_id),
            Notice(REVIEW_KIND, {"id": wish_id}),
            lang=card.language,
        )
        edited += ok
        if not ok:
            log.info("review card of wish %s in chat %s not edited", wish_id, card.chat_id)
    return edited
