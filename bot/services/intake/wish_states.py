"""The one state machine of a wish, from the resident's words to the closed loop.

submitted → approved | rejected | escalated | merged | cancelled
escalated → approved (re-opened for volunteers) | closed (the department answered) | cancelled
approved  → offered | escalated | cancelled | expired
offered   → claimed | approved (rounds exhausted, back with staff) | cancelled | expired
claimed   → in_progress | done | offered (released) | cancelled
in_progress → done | offered (released) | cancelled
done      → confirmed | disputed
disputed  → confirmed | offered (redo) | closed
confirmed → verified | closed
verified  → closed
Every transition is written to the wish's history with who and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import logs
from bot.db.models import Wish, WishEvent

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"approved", "rejected", "escalated", "merged", "cancelled"}),
    "escalated": frozenset({"approved", "closed", "cancelled"}),
    "approved": frozenset({"offered", "escalated", "cancelled", "expired"}),
    "offered": frozenset({"claimed", "approved", "cancelled", "expired"}),
    "claimed": frozenset({"in_progress", "done", "offered", "cancelled"}),
    "in_progress": frozenset({"done", "offered", "cancelled"}),
    "done": frozenset({"confirmed", "disputed"}),
    "disputed": frozenset({"confirmed", "offered", "closed"}),
    "confirmed": frozenset({"verified", "closed"}),
    "verified": frozenset({"closed"}),
    "rejected": frozenset(),
    "merged": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
    "closed": frozenset(),
}
STATES = frozenset(TRANSITIONS)
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Open from the resident's point of view: counts against their limit, can be cancelled.
OPEN = frozenset({"submitted", "escalated", "approved", "offered", "claimed", "in_progress"})
CANCELLABLE = frozenset({"submitted", "escalated", "approved", "offered", "claimed", "in_progress"})


class IllegalTransition(Exception):
    def __init__(self, wish_id: int | None, from_status: str, to_status: str) -> None:
        super().__init__(f"wish {wish_id}: {from_status} → {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def move(
    session: AsyncSession,
    wish: Wish,
    to_status: str,
    *,
    actor_id: int | None,
    at: datetime,
    note: str | None = None,
) -> WishEvent:
    """Change the status (in the session, not committed) and record it in the history."""
    logs.bind(wish=wish.id)
    if not can_move(wish.status, to_status):
        raise IllegalTransition(wish.id, wish.status, to_status)
    event = WishEvent(
        wish_id=wish.id,
        from_status=wish.status,
        to_status=to_status,
        actor_id=actor_id,
        note=note,
        at=at,
    )
    wish.status = to_status
    wish.updated_at = at
    if to_status in TERMINAL:
        wish.closed_at = at
    session.add(event)
    return event


def note(
    session: AsyncSession, wish: Wish, text: str, *, actor_id: int | None, at: datetime
) -> WishEvent:
    """A history line that changes no status (details added, category corrected...)."""
    logs.bind(wish=wish.id)
    event = WishEvent(
        wish_id=wish.id,
        from_status=wish.status,
        to_status=wish.status,
        actor_id=actor_id,
        note=text,
        at=at,
    )
    session.add(event)
    return event
