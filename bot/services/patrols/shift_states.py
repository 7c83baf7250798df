"""The state machine of a patrol shift (pure: no database).

open        → full (the last place taken) | closed (staff stop sign-ups) | in_progress | cancelled
full        → open (a place freed) | closed | in_progress | cancelled
closed      → open | full (staff reopen: full when no place is left) | in_progress | cancelled
in_progress → done (staff end it: points are awarded)
done, cancelled: final.

A shift becomes in_progress at its first check-in; sign-ups are taken only while open.
"""

from __future__ import annotations

OPEN, FULL, CLOSED, IN_PROGRESS, DONE, CANCELLED = (
    "open",
    "full",
    "closed",
    "in_progress",
    "done",
    "cancelled",
)

TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({FULL, CLOSED, IN_PROGRESS, CANCELLED}),
    FULL: frozenset({OPEN, CLOSED, IN_PROGRESS, CANCELLED}),
    CLOSED: frozenset({OPEN, FULL, IN_PROGRESS, CANCELLED}),
    IN_PROGRESS: frozenset({DONE}),
    DONE: frozenset(),
    CANCELLED: frozenset(),
}
STATES = frozenset(TRANSITIONS)
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Before the patrol: people may still cancel; staff may still call it off.
UPCOMING = frozenset({OPEN, FULL, CLOSED})
# Check-in is possible (in its time window) in these.
CHECKABLE = frozenset({OPEN, FULL, CLOSED, IN_PROGRESS})


class IllegalShiftMove(Exception):
    def __init__(self, shift_id: int | None, from_status: str, to_status: str) -> None:
        super().__init__(f"patrol shift {shift_id}: {from_status} → {to_status} is not allowed")
        self.from_status = from_status
        self.to_status = to_status


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def require(shift_id: int | None, from_status: str, to_status: str) -> str:
    if not can_move(from_status, to_status):
        raise IllegalShiftMove(shift_id, from_status, to_status)
    return to_status


def after_signup_change(status: str, taken: int, capacity: int) -> str:
    """open ⇄ full as places are taken and freed; other states are left as they are."""
    if status == OPEN and taken >= capacity:
        return FULL
    if status == FULL and taken < capacity:
        return OPEN
    return status
