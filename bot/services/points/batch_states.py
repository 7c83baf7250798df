"""The declaration batch (召集人汇总) as a state machine, with no I/O.

A batch is forwarded by a convenor with its items pending. Staff decide items (one by one or
all at once); when none is pending the batch is verified. Staff may instead return it: items
already decided stay decided, the rest go back to the convenor, who may forward them again.
Verified and returned are final.
"""

from __future__ import annotations

from bot.db.models.lists import BATCH_FORWARDED, BATCH_RETURNED, BATCH_VERIFIED

TRANSITIONS: dict[str, frozenset[str]] = {
    BATCH_FORWARDED: frozenset({BATCH_VERIFIED, BATCH_RETURNED}),
    BATCH_VERIFIED: frozenset(),
    BATCH_RETURNED: frozenset(),
}
ACTIONS = ("decide", "return")


def after(status: str, action: str, pending_left: int) -> str:
    """The batch's status after ``action`` ("decide": an item was decided, "return") with
    ``pending_left`` items still pending. Raises ValueError when the batch is closed."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if status != BATCH_FORWARDED:
        raise ValueError(f"batch is {status}")
    if pending_left < 0:
        raise ValueError("nothing was pending")
    if action == "return":
        return BATCH_RETURNED
    return BATCH_VERIFIED if pending_left == 0 else BATCH_FORWARDED


def allowed(from_status: str, to_status: str) -> bool:
    return from_status == to_status or to_status in TRANSITIONS.get(from_status, frozenset())
