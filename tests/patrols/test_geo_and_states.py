"""The pure parts: haversine distances and the two state machines (walked exhaustively and
with hypothesis)."""

from __future__ import annotations

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from bot.services.patrols import shift_states as ss
from bot.services.posts import term_states as ts
from matching.geo import haversine_m, valid_point, within

lat = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lon = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)


def test_known_distances() -> None:
    # One degree of latitude is about 111.2 km; Beijing–Shanghai about 1,068 km.
    assert abs(haversine_m(0, 0, 1, 0) - 111_195) < 5
    assert abs(haversine_m(39.9042, 116.4074, 31.2304, 121.4737) - 1_067_000) < 3_000
    assert haversine_m(31.5690, 120.2990, 31.5690, 120.2990) == 0
    # 200 m north of the gate is within 300 m, 400 m is not.
    north_200 = 31.5690 + 200 / 111_195
    assert within(north_200, 120.2990, 31.5690, 120.2990, 300)
    assert not within(31.5690 + 400 / 111_195, 120.2990, 31.5690, 120.2990, 300)
    assert not valid_point(91, 0) and not valid_point(0, 181) and not valid_point(math.nan, 0)


@given(lat, lon, lat, lon)
def test_distance_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    there, back = haversine_m(a, b, c, d), haversine_m(c, d, a, b)
    assert there >= 0 and math.isclose(there, back, rel_tol=1e-9, abs_tol=1e-6)
    assert there <= math.pi * 6_371_008.8 + 1


@given(lat, lon, lat, lon, lat, lon)
def test_triangle_inequality(a: float, b: float, c: float, d: float, e: float, f: float) -> None:
    assert haversine_m(a, b, e, f) <= haversine_m(a, b, c, d) + haversine_m(c, d, e, f) + 1e-6


def test_shift_machine_every_state_reaches_an_end_and_ends_stay() -> None:
    for state in ss.STATES:
        seen, frontier = {state}, [state]
        while frontier:
            for nxt in ss.TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert seen & ss.TERMINAL, state
    for end in ss.TERMINAL:
        assert all(not ss.can_move(end, s) for s in ss.STATES)
    assert not ss.can_move(ss.DONE, ss.IN_PROGRESS) and not ss.can_move(ss.OPEN, ss.DONE)


@st.composite
def shift_walk(draw: st.DrawFn) -> tuple[int, list[str]]:
    capacity = draw(st.integers(min_value=1, max_value=4))
    ops = draw(
        st.lists(st.sampled_from(["join", "leave", "close", "reopen", "start", "end"]), max_size=25)
    )
    return capacity, ops


@given(shift_walk())
def test_random_walks_keep_places_and_status_consistent(walk: tuple[int, list[str]]) -> None:
    """A model of the service's rules: status only moves along TRANSITIONS, open ⇔ places
    left (before the patrol), taken never exceeds capacity."""
    capacity, ops = walk
    status, taken = ss.OPEN, 0
    for op in ops:
        before = status
        if op == "join" and status == ss.OPEN and taken < capacity:
            taken += 1
            status = ss.after_signup_change(status, taken, capacity)
        elif op == "leave" and status in ss.UPCOMING and taken > 0:
            taken -= 1
            status = ss.after_signup_change(status, taken, capacity)
        elif op == "close" and ss.can_move(status, ss.CLOSED):
            status = ss.CLOSED
        elif op == "reopen" and status == ss.CLOSED:
            status = ss.after_signup_change(ss.OPEN, taken, capacity)
        elif op == "start" and ss.can_move(status, ss.IN_PROGRESS):
            status = ss.IN_PROGRESS
        elif op == "end" and ss.can_move(status, ss.DONE):
            status = ss.DONE
        assert status == before or ss.can_move(before, status)
        assert 0 <= taken <= capacity
        if status == ss.OPEN:
            assert taken < capacity
        if status == ss.FULL:
            assert taken == capacity


def test_post_walks_exhaustively() -> None:
    """Every sequence of up to 4 operations (claim, end, check in) by two members over two
    months: one holder at a time, check-ins only by the holder, once per term and month."""
    steps = [
        (op, user, month)
        for op in ("claim", "end", "ci")
        for user in (1, 2)
        for month in ("2026-11", "2026-12")
    ]
    for length in range(1, 5):
        for seq in itertools.product(steps, repeat=length):
            post = ts.PostModel()
            counted: list[tuple[int, int, str]] = []
            for op, user, month in seq:
                holder_before = post.holder
                if op == "claim":
                    ok = post.claim(user)
                    assert ok == (holder_before is None)
                elif op == "end":
                    ok = post.end()
                    assert ok == (holder_before is not None)
                else:
                    if post.check_in(user, month):
                        counted.append((len(post.terms) - 1, user, month))
                        assert user == post.holder
                assert (post.status == ts.HELD) == (post.holder is not None)
                held = [t for t in post.terms if t[1] == ts.HELD]
                assert len(held) <= 1
            keys = [(term, month) for term, _, month in counted]
            assert len(keys) == len(set(keys))


def test_slot_machine_names_the_brief() -> None:
    assert ts.SLOT_TRANSITIONS[ts.VACANT] == {ts.HELD}
    assert ts.SLOT_TRANSITIONS[ts.HELD] == {ts.ENDED}
    assert not ts.can_move_post(ts.VACANT, ts.VACANT) and ts.can_move_term(ts.HELD, ts.ENDED)
    assert not ts.can_move_term(ts.ENDED, ts.HELD)
