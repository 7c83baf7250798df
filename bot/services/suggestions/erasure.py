"""/delete_me for what a person told the community: their suggestions' words (and the replies
and notes about them) and their comments on events. The rows stay for the monthly counts."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EventRating, Suggestion, SuggestionEvent

ERASED = ""


async def erase_feedback(session: AsyncSession, user_id: int) -> None:
    """Empty the person's suggestion texts and event comments; the caller commits."""
    own = select(Suggestion.id).where(Suggestion.resident_id == user_id).scalar_subquery()
    await session.execute(
        update(Suggestion).where(Suggestion.resident_id == user_id).values(text=ERASED, answer=None)
    )
    await session.execute(
        update(SuggestionEvent)
        .where(or_(SuggestionEvent.suggestion_id.in_(own), SuggestionEvent.actor_id == user_id))
        .values(note=None)
    )
    await session.execute(
        update(EventRating).where(EventRating.user_id == user_id).values(comment=None)
    )
