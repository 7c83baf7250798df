"""/delete_me beyond the profile: every free text and chat id a person left in other tables.

Rows that history and statistics point at stay (a wish, its offers, the ledger), with the
personal parts emptied: what they wrote, what was written to or about them in their tasks,
the chat ids the bot used to reach them, the answers kept for their button presses.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.models import (
    AuditEntry,
    CategoryCorrection,
    Convenor,
    Declaration,
    DeclarationBatch,
    Escalation,
    Offer,
    OutboxMessage,
    ProcessedAction,
    RelayMessage,
    RosterEntry,
    Wish,
    WishEvent,
)
from bot.db.models.delivery import CANCELLED, PENDING
from bot.db.models.patrols import Hazard, Post, PostCheckin, PostTerm
from bot.services.suggestions.erasure import erase_feedback

ERASED = ""


async def erase_traces(session: AsyncSession, user_id: int) -> None:
    """Empty the person's free texts and chat ids everywhere; the caller commits."""
    own = select(Wish.id).where(Wish.resident_id == user_id).scalar_subquery()
    # Their wishes: the words, additions, photos, comments, and staff's notes quoting them.
    await session.execute(
        update(Wish)
        .where(Wish.resident_id == user_id)
        .values(
            text=ERASED,
            details=[],
            photo_file_id=None,
            rating_comment=None,
            reject_reason=None,
        )
    )
    # Tasks they served: their done notes and photos.
    await session.execute(
        update(Wish)
        .where(Wish.volunteer_id == user_id)
        .values(done_note=None, done_photo_file_id=None)
    )
    await session.execute(
        update(WishEvent)
        .where(or_(WishEvent.wish_id.in_(own), WishEvent.actor_id == user_id))
        .values(note=None)
    )
    await session.execute(
        update(CategoryCorrection).where(CategoryCorrection.wish_id.in_(own)).values(text=ERASED)
    )
    await session.execute(
        update(Escalation).where(Escalation.wish_id.in_(own)).values(note=ERASED, answer=None)
    )
    # Messages relayed to or from them.
    await session.execute(
        update(RelayMessage)
        .where(or_(RelayMessage.from_user_id == user_id, RelayMessage.to_user_id == user_id))
        .values(text=ERASED)
    )
    # Where the bot reached them: offer cards, the outbox (nothing more is sent to them).
    await session.execute(
        update(Offer).where(Offer.volunteer_id == user_id).values(chat_id=None, message_id=None)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == PENDING)
        .values(status=CANCELLED)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user_id)
        .values(params={}, sent_chat_id=None, message_id=None, error=None)
    )
    await session.execute(
        update(Declaration)
        .where(Declaration.user_id == user_id)
        .values(what=ERASED, when_text=ERASED, note=ERASED, photo_file_id=None, reject_reason=None)
    )
    await session.execute(
        update(RosterEntry)
        .where(RosterEntry.matched_user_id == user_id)
        .values(name=ERASED, phone_last4=None, matched_user_id=None)
    )
    # The audit trail stays, anonymised: what was done, not what was said.
    await session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(detail={})
    )
    await session.execute(delete(ProcessedAction).where(ProcessedAction.user_id == user_id))
    # Their suggestions (社情民意) and event comments: the words go, the counts stay.
    await erase_feedback(session, user_id)
    # Issue 13 (lists): no longer a convenor; the summaries they wrote are emptied.
    await session.execute(delete(Convenor).where(Convenor.user_id == user_id))
    await session.execute(
        update(DeclarationBatch)
        .where(DeclarationBatch.convenor_id == user_id)
        .values(summary=ERASED)
    )
    await _erase_patrol_traces(session, user_id)


async def _erase_patrol_traces(session: AsyncSession, user_id: int) -> None:
    """Hazards they reported (note, photo, place) and their post reports; posts they held are
    vacant again (issue 13: patrols and standing posts)."""
    await session.execute(
        update(Hazard)
        .where(Hazard.reporter_id == user_id)
        .values(note=ERASED, photo_file_id=None, lat=None, lon=None)
    )
    terms = select(PostTerm.id).where(PostTerm.user_id == user_id).scalar_subquery()
    await session.execute(
        update(PostCheckin).where(PostCheckin.term_id.in_(terms)).values(report=ERASED)
    )
    held = (
        select(PostTerm.post_id)
        .where(PostTerm.user_id == user_id, PostTerm.status == "held")
        .scalar_subquery()
    )
    await session.execute(
        update(Post).where(Post.id.in_(held)).values(status="vacant", holder_id=None)
    )
    await session.execute(
        update(PostTerm)
        .where(PostTerm.user_id == user_id, PostTerm.status == "held")
        .values(status="ended", ended_at=utcnow())
    )
