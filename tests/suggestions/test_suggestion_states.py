"""The suggestion state machine: the table, and every path through it (property test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db.models import Suggestion
from bot.services.suggestions import states
from bot.services.suggestions.states import (
    ANSWERED,
    DECLINED,
    FIXED,
    FIXING,
    OPEN,
    RATEABLE,
    RECEIVED,
    STATES,
    TERMINAL,
    TRANSITIONS,
)


class FakeSession:
    """Collects what move() adds (the state machine itself writes nothing else)."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)


def fresh() -> Suggestion:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    return Suggestion(
        id=1, resident_id=1, grid_id=1, text="建议", status=RECEIVED, created_at=at, updated_at=at
    )


def test_the_table() -> None:
    assert {DECLINED} == TERMINAL
    assert {RECEIVED, FIXING} == OPEN
    assert {ANSWERED, FIXED} == RATEABLE
    assert all(nxt <= STATES for nxt in TRANSITIONS.values())
    # Every state is reachable from received.
    seen, todo = {RECEIVED}, [RECEIVED]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == STATES
    assert not states.can_move(DECLINED, FIXING)
    assert not states.can_move(FIXED, DECLINED)  # a fix is not declined afterwards
    assert states.can_move(FIXED, FIXING)  # but reopened


@given(st.lists(st.sampled_from(sorted(STATES)), max_size=12))
def test_any_sequence_of_moves(targets: list[str]) -> None:
    """Legal moves change the status and write one history line; illegal ones change nothing.
    Whatever happened: a fixed suggestion has its fix time, only a fix in progress has an
    owner and a due date, and a fresh reply clears the resident's earlier verdict."""
    s, session = fresh(), FakeSession()
    s.owner_id, s.due_at = None, None
    at = datetime(2026, 11, 1, tzinfo=UTC)
    for i, target in enumerate(targets):
        at += timedelta(hours=1)
        before, lines = s.status, len(session.added)
        s.satisfied = True  # as if the resident had said so
        if states.can_move(before, target):
            states.move(session, s, target, actor_id=7, at=at)  # type: ignore[arg-type]
            if target == FIXING:
                s.owner_id, s.due_at = 7, at + timedelta(days=3)
            assert s.status == target and s.updated_at == at
            assert len(session.added) == lines + 1
            line = session.added[-1]
            assert (line.from_status, line.to_status, line.actor_id) == (before, target, 7)
            assert s.answered_at is not None
            if target in RATEABLE:
                assert s.satisfied is None
        else:
            with pytest.raises(states.IllegalMove):
                states.move(session, s, target, actor_id=7, at=at)  # type: ignore[arg-type]
            assert s.status == before and len(session.added) == lines, i
        if s.status == FIXED:
            assert s.fixed_at is not None
        if s.status != FIXING:
            assert s.owner_id is None and s.due_at is None
    # The history replays to the final status.
    status = RECEIVED
    for line in session.added:
        assert line.from_status == status
        status = line.to_status
    assert status == s.status


def test_exhaustive_walk_of_short_paths() -> None:
    """Every legal path of up to 5 moves from received, replayed through move(): it ends where
    the path says with one history line a move, and declined is always the path's end."""
    done: list[list[str]] = []
    paths = [[RECEIVED]]
    for _ in range(5):
        longer = [[*p, n] for p in paths for n in sorted(TRANSITIONS[p[-1]])]
        done += [p for p in paths if not TRANSITIONS[p[-1]]]
        paths = longer
    done += paths
    assert len(done) == 13  # 13 with this table (4 end in declined early)
    for path in done:
        s, session = fresh(), FakeSession()
        at = datetime(2026, 11, 1, tzinfo=UTC)
        for target in path[1:]:
            at += timedelta(hours=1)
            states.move(session, s, target, actor_id=1, at=at)  # type: ignore[arg-type]
        assert s.status == path[-1] and len(session.added) == len(path) - 1
        assert DECLINED not in path[:-1]
