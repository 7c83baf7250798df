"""The state machine of a suggestion (社情民意), from the resident's words to the closed loop.

received → answered (已答复) | fixing (整改中) | fixed (已整改) | declined (不予采纳)
answered → fixing | fixed | declined   (a reply first, then a decision)
fixing   → fixed | declined            (owner and due date set; reminded, alerted when late)
fixed    → fixing                      (reopened: the resident was not satisfied)
declined → (final; the reason is kept)

The resident is told at each move; after "answered" and "fixed" they say whether they are
satisfied. Every move is written to the suggestion's history with who and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Suggestion, SuggestionEvent

RECEIVED, ANSWERED, FIXING, FIXED, DECLINED = "received", "answered", "fixing", "fixed", "declined"
TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({ANSWERED, FIXING, FIXED, DECLINED}),
    ANSWERED: frozenset({FIXING, FIXED, DECLINED}),
    FIXING: frozenset({FIXED, DECLINED}),
    FIXED: frozenset({FIXING}),
    DECLINED: frozenset(),
}
STATES = frozenset(TRANSITIONS)
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Still on staff's list: nothing said yet, or a fix under way. An answered one leaves it (its
# card keeps the buttons; a resident not satisfied brings it back to staff's attention).
OPEN = frozenset({RECEIVED, FIXING})
# The resident may say whether they are satisfied.
RATEABLE = frozenset({ANSWERED, FIXED})


class IllegalMove(Exception):
    def __init__(self, suggestion_id: int | None, from_status: str, to_status: str) -> None:
        super().__init__(f"suggestion {suggestion_id}: {from_status} → {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def move(
    session: AsyncSession,
    suggestion: Suggestion,
    to_status: str,
    *,
    actor_id: int | None,
    at: datetime,
    note: str | None = None,
) -> SuggestionEvent:
    """Change the status (in the session, not committed) and record it in the history."""
    if not can_move(suggestion.status, to_status):
        raise IllegalMove(suggestion.id, suggestion.status, to_status)
    event = SuggestionEvent(
        suggestion_id=suggestion.id,
        from_status=suggestion.status,
        to_status=to_status,
        actor_id=actor_id,
        note=note,
        at=at,
    )
    suggestion.status = to_status
    suggestion.updated_at = at
    if suggestion.answered_at is None:
        suggestion.answered_at = at
    if to_status == FIXED:
        suggestion.fixed_at = at
    if to_status != FIXING:
        suggestion.owner_id, suggestion.due_at = None, None
    if to_status in RATEABLE:  # a new reply or fix: the resident may say again
        suggestion.satisfied, suggestion.rated_at = None, None
    session.add(event)
    return event


def note(
    session: AsyncSession, suggestion: Suggestion, text: str, *, actor_id: int | None, at: datetime
) -> SuggestionEvent:
    """A history line that changes no status (the resident's satisfaction, say)."""
    event = SuggestionEvent(
        suggestion_id=suggestion.id,
        from_status=suggestion.status,
        to_status=suggestion.status,
        actor_id=actor_id,
        note=text,
        at=at,
    )
    session.add(event)
    return event
