"""The state machine of a standing post and its terms (pure: no database).

A post is vacant or held. Claiming a vacant post starts a term (vacant → held); the term is
held until it ends (its end date passes, the member gives it back, or staff end it), and the
post is vacant again (held → ended for the term; held → vacant for the post). Check-ins are
taken only on a held term, once per month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VACANT, HELD, ENDED = "vacant", "held", "ended"

POST_TRANSITIONS: dict[str, frozenset[str]] = {
    VACANT: frozenset({HELD}),
    HELD: frozenset({VACANT}),
}
TERM_TRANSITIONS: dict[str, frozenset[str]] = {HELD: frozenset({ENDED}), ENDED: frozenset()}
# The life of one post slot as the brief names it: vacant → held → ended (→ vacant again).
SLOT_TRANSITIONS: dict[str, frozenset[str]] = {
    VACANT: frozenset({HELD}),
    HELD: frozenset({ENDED}),
    ENDED: frozenset({VACANT}),
}


class IllegalPostMove(Exception):
    def __init__(self, what: str, from_status: str, to_status: str) -> None:
        super().__init__(f"{what}: {from_status} → {to_status} is not allowed")


def can_move_post(from_status: str, to_status: str) -> bool:
    return to_status in POST_TRANSITIONS.get(from_status, frozenset())


def can_move_term(from_status: str, to_status: str) -> bool:
    return to_status in TERM_TRANSITIONS.get(from_status, frozenset())


@dataclass
class PostModel:
    """A plain model of one post, for reasoning and tests: who holds it, the check-ins made."""

    status: str = VACANT
    holder: int | None = None
    terms: list[tuple[int, str]] = field(default_factory=list)  # (user, status)
    checkins: set[tuple[int, str]] = field(default_factory=set)  # (term index, month)

    def claim(self, user: int) -> bool:
        if not can_move_post(self.status, HELD):
            return False
        self.status, self.holder = HELD, user
        self.terms.append((user, HELD))
        return True

    def end(self) -> bool:
        if not can_move_post(self.status, VACANT):
            return False
        index = len(self.terms) - 1
        user, status = self.terms[index]
        if not can_move_term(status, ENDED):
            raise IllegalPostMove("term", status, ENDED)
        self.terms[index] = (user, ENDED)
        self.status, self.holder = VACANT, None
        return True

    def check_in(self, user: int, month: str) -> bool:
        """True when the check-in counts (and earns points): the holder, once per month."""
        if self.status != HELD or self.holder != user:
            return False
        key = (len(self.terms) - 1, month)
        if key in self.checkins:
            return False
        self.checkins.add(key)
        return True
