"""Where a wish goes next: to the reviewing staff when filed, to volunteers when approved.

Both the resident's filing (wishes) and staff review (dispatch) end here, so neither imports
the other.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Wish
from bot.services.context import AppContext
from bot.services.intake.staff_cards import send_review_cards
from bot.services.people.registration import staff_for_grid
from bot.services.tasks.offers import next_round


async def notify_reviewers(app: AppContext, session: AsyncSession, wish: Wish) -> None:
    await send_review_cards(
        app, session, wish.id, list(await staff_for_grid(session, wish.grid_id))
    )


async def after_approval(app: AppContext, wish_id: int) -> None:
    """An approved wish goes straight to the best-suited volunteers (党员接单)."""
    await next_round(app, wish_id)
