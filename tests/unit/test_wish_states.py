"""The wish state machine: legal paths work, illegal transitions raise, history is complete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.db.models import Wish, WishEvent
from bot.services.intake import wish_states
from bot.services.intake.wish_states import OPEN, STATES, TERMINAL, TRANSITIONS, IllegalTransition

NOW = datetime(2026, 11, 22, tzinfo=UTC)


class FakeSession:
    """Collects what move() adds; the state machine needs nothing else of a session."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, obj: Any) -> None:
        self.added.append(obj)


def _wish() -> Wish:
    return Wish(id=1, status="submitted", resident_id=1, grid_id=1, text="x", category="other")


@given(st.lists(st.sampled_from(sorted(STATES)), max_size=30))
@settings(max_examples=300, deadline=None)
def test_any_sequence_either_moves_legally_or_raises_and_changes_nothing(
    targets: list[str],
) -> None:
    wish, session = _wish(), FakeSession()
    expected_history = []
    for target in targets:
        before = wish.status
        if target in TRANSITIONS[before]:
            wish_states.move(session, wish, target, actor_id=7, at=NOW)  # type: ignore[arg-type]
            expected_history.append((before, target))
            assert wish.status == target
        else:
            with pytest.raises(IllegalTransition):
                wish_states.move(session, wish, target, actor_id=7, at=NOW)  # type: ignore[arg-type]
            assert wish.status == before
    events = [e for e in session.added if isinstance(e, WishEvent)]
    assert [(e.from_status, e.to_status) for e in events] == expected_history
    assert all(e.actor_id == 7 and e.at == NOW for e in events)
    if wish.status in TERMINAL and expected_history:
        assert wish.closed_at == NOW


def test_every_state_is_reachable_from_submitted() -> None:
    seen, frontier = {"submitted"}, ["submitted"]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(STATES)


def test_terminal_states_have_no_way_out_and_open_states_can_end() -> None:
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()
    for state in OPEN:
        assert "cancelled" in TRANSITIONS[state] or "done" in TRANSITIONS[state]


def test_the_main_loop_is_a_legal_path() -> None:
    wish, session = _wish(), FakeSession()
    for status in [
        "approved",
        "offered",
        "claimed",
        "in_progress",
        "done",
        "confirmed",
        "verified",
        "closed",
    ]:
        wish_states.move(session, wish, status, actor_id=None, at=NOW)  # type: ignore[arg-type]
    assert wish.status == "closed"
    with pytest.raises(IllegalTransition):
        wish_states.move(session, wish, "offered", actor_id=None, at=NOW)  # type: ignore[arg-type]
