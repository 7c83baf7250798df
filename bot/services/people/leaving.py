"""/delete_me as a whole: first what the person leaves behind in the service, then erasure.

Erasure alone (``actors.erase_user``) would leave a volunteer holding a task whose resident is
gone (no name, no phone, nobody to confirm) and a wish waiting on a volunteer who left. So
their open wishes are cancelled as their own cancel does (the holder is told), and tasks they
hold go back to offers as their own release does (the resident is told, others are offered).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Wish
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.intake import wish_states, wishes
from bot.services.people import actors
from bot.services.tasks import lifecycle


@dataclass(frozen=True, slots=True)
class Left:
    cancelled: int  # their own open wishes
    released: int  # tasks they held, back to offers


async def leave(app: AppContext, session: AsyncSession, user_id: int) -> Left:
    """Cancel their open wishes, give back the tasks they hold, then erase them."""
    own = list(
        await session.scalars(
            select(Wish.id).where(
                Wish.resident_id == user_id, Wish.status.in_(wish_states.CANCELLABLE)
            )
        )
    )
    held = list(
        await session.scalars(
            select(Wish.id).where(
                Wish.volunteer_id == user_id, Wish.status.in_(("claimed", "in_progress"))
            )
        )
    )
    await session.commit()  # end the read: each step below owns its write transaction
    cancelled = released = 0
    for wish_id in own:
        try:
            await wishes.cancel_wish(app, session, user_id, wish_id)
            cancelled += 1
        except UserError:  # finished or cancelled meanwhile
            continue
    for wish_id in held:
        try:
            await lifecycle.release(app, session, wish_id, user_id, "other")
            released += 1
        except UserError:  # done or released meanwhile
            continue
    await actors.erase_user(app, session, user_id)
    return Left(cancelled, released)
