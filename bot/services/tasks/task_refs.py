"""Where a volunteer's task card is, so it can be redrawn when the wish changes under it.

The claimer's offer row keeps the chat and message of the offer card; after the claim it
holds the task card instead (existing columns, no migration). When the wish then changes
without the volunteer pressing anything (the resident cancels it), the card is edited to its
current state, so its buttons do not linger.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Offer, User
from bot.db.tx import begin_write
from bot.services.context import AppContext
from bot.services.notices import Notice, SentRef

log = logging.getLogger(__name__)


async def remember(session: AsyncSession, wish_id: int, volunteer_id: int, ref: SentRef) -> None:
    """Record where the task card was sent (the claimer's offer row, if there is one)."""
    await begin_write(session)
    await session.execute(
        update(Offer)
        .where(
            Offer.wish_id == wish_id,
            Offer.volunteer_id == volunteer_id,
            Offer.status == "claimed",
        )
        .values(chat_id=ref.chat_id, message_id=ref.message_id)
    )
    await session.commit()


async def redraw(app: AppContext, session: AsyncSession, wish_id: int, volunteer_id: int) -> bool:
    """Edit the volunteer's task card to the wish's current state. False if none is known."""
    row = (
        await session.execute(
            select(Offer.chat_id, Offer.message_id).where(
                Offer.wish_id == wish_id,
                Offer.volunteer_id == volunteer_id,
                Offer.status == "claimed",
            )
        )
    ).first()
    user = await session.get(User, volunteer_id)
    if session.in_transaction():
        await session.commit()  # hold no transaction while talking to Telegram
    if row is None or row.chat_id is None or row.message_id is None:
        return False
    lang = user.language if user is not None else None
    edited = await app.notifier.edit(
        SentRef(row.chat_id, row.message_id),
        Notice("task.card_now", {"id": wish_id, "for_user": volunteer_id}),
        lang=lang,
    )
    if not edited:
        log.info("task card of wish %s for user %s could not be redrawn", wish_id, volunteer_id)
    return edited
