"""Who sees what on the web: the bot's roles and grid scopes, in one place.

Grid staff see and act on their own grid only; community staff (and admins) on every grid; a
wall-screen display token reads the overview of its grid (or all) and nothing else. Every page
asks these functions, so pointing them at a central authorization policy is one edit here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Staff, User
from bot.services.web_access import SessionStaff

READ = "read"
ACT = "act"  # review, export, manage display tokens


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int | None  # None: a display token
    name: str
    language: str
    grid_ids: frozenset[int] | None  # None: every grid
    community_wide: bool
    read_only: bool
    csrf: str = ""

    @property
    def grids(self) -> Collection[int] | None:
        return None if self.grid_ids is None else self.grid_ids


async def staff_viewer(
    session: AsyncSession, user_id: int, language: str, csrf: str
) -> Viewer | None:
    """The viewer for a logged-in user, or None when they are no longer staff."""
    staff = await session.get(Staff, user_id)
    user = await session.get(User, user_id)
    if staff is None or user is None:
        return None
    community = staff.scope == "community"
    grids = None if community else frozenset({staff.grid_id} if staff.grid_id else set())
    return Viewer(
        user_id=user_id,
        name=user.display_name or str(user_id),
        language=language,
        grid_ids=grids,
        community_wide=community,
        read_only=False,
        csrf=csrf,
    )


def session_viewer(found: SessionStaff) -> Viewer | None:
    """:func:`staff_viewer` from a row :func:`web_access.touch_staff_session` already read."""
    if found.staff_scope is None:
        return None
    community = found.staff_scope == "community"
    grid_id = found.staff_grid_id
    grids = None if community else frozenset({grid_id} if grid_id else set())
    user_id = found.active.user_id
    return Viewer(
        user_id=user_id,
        name=found.display_name or str(user_id),
        language=found.active.language,
        grid_ids=grids,
        community_wide=community,
        read_only=False,
        csrf=found.active.csrf,
    )


def display_viewer(grid_id: int | None, language: str) -> Viewer:
    return Viewer(
        user_id=None,
        name="display",
        language=language,
        grid_ids=None if grid_id is None else frozenset({grid_id}),
        community_wide=grid_id is None,
        read_only=True,
    )


def may_see_grid(viewer: Viewer, grid_id: int) -> bool:
    return viewer.grid_ids is None or grid_id in viewer.grid_ids


def may_act(viewer: Viewer) -> bool:
    """Review, export: staff, not a display."""
    return not viewer.read_only and viewer.user_id is not None


def may_manage_displays(viewer: Viewer) -> bool:
    """Issue and revoke wall-screen tokens: community staff only (as the bot's invites)."""
    return may_act(viewer) and viewer.community_wide


def may_import_roster(viewer: Viewer) -> bool:
    """Import the roster of in-service members: community staff only (a roster spans grids)."""
    return may_act(viewer) and viewer.community_wide
