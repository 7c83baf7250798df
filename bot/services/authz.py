"""Ownership and scope checks behind the authorization policy (bot/tg/policy.py).

Each check answers one question about one person and one wish with one narrow query, and
leaves no transaction open (the handler that runs next may need to write).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Offer, ProxyFiling, Staff, Volunteer, Wish
from bot.db.tx import end_read
from bot.services.tasks import holders
from bot.services.tasks.volunteer_pool import ACTIVE

# Ownership kinds a policy rule may ask for.
WISH_RESIDENT = "wish_resident"  # the resident whose wish it is
TASK_HOLDER = "task_holder"  # the volunteer holding the task
TASK_PARTY = "task_party"  # either of those two (the relay)
OFFERED = "offered"  # a volunteer the wish was offered to
OFFERED_OR_AREA_POST = "offered_or_area_post"  # offered, or on the grid group's post of it
STAFF_SCOPE = "staff_scope"  # staff whose scope covers the wish's grid
FILER = "filer"  # who filed the wish for a resident without Telegram (代办)
OWNERSHIPS = frozenset(
    {WISH_RESIDENT, TASK_HOLDER, TASK_PARTY, OFFERED, OFFERED_OR_AREA_POST, STAFF_SCOPE, FILER}
)


async def _done(session: AsyncSession) -> None:
    await end_read(session)


# Built once: these run on nearly every button press (building a statement costs more than
# running it on SQLite).
_WISH = select(Wish.resident_id, Wish.grid_id, Wish.volunteer_id, Wish.status).where(
    Wish.id == bindparam("wish_id")
)
_OFFERED = select(Offer.id).where(
    Offer.wish_id == bindparam("wish_id"), Offer.volunteer_id == bindparam("user_id")
)
_AREA_POST = (
    select(
        Wish.grid_id,
        Wish.group_chat_id,
        Wish.group_message_id,
        Wish.status,
        Wish.volunteer_id,
        Volunteer.grid_id.label("volunteer_grid"),
        Volunteer.status.label("volunteer_status"),
    )
    .select_from(Wish)
    .outerjoin(Volunteer, Volunteer.user_id == bindparam("user_id"))
    .where(Wish.id == bindparam("wish_id"))
)
# What the area-post check read of the wish's holder, for the claim that follows in the same
# update (bot.services.tasks.claims.refuse_if_held): {wish id: (status, volunteer id)}.
HOLDER_SEEN = "wishbot_holder_seen"


async def _wish(session: AsyncSession, wish_id: int) -> tuple[int, int, int | None] | None:
    row = (await session.execute(_WISH, {"wish_id": wish_id})).first()
    if row is None:
        return None
    session.info.setdefault(HOLDER_SEEN, {})[wish_id] = (row.status, row.volunteer_id)
    return (row[0], row[1], row[2])


async def _offered(session: AsyncSession, wish_id: int, user_id: int) -> bool:
    found = await session.scalar(_OFFERED, {"wish_id": wish_id, "user_id": user_id})
    return found is not None


async def _area_post(
    session: AsyncSession, wish_id: int, user_id: int, chat_id: int, message_id: int
) -> bool:
    """The press is on the wish's own post in its grid's group, by an approved volunteer there.

    One query (the wish's post and the presser's volunteer row): fifty presses on a post at
    once each pay one round trip here, not three."""
    row = (await session.execute(_AREA_POST, {"wish_id": wish_id, "user_id": user_id})).first()
    if row is not None:
        session.info.setdefault(HOLDER_SEEN, {})[wish_id] = (row.status, row.volunteer_id)
        if row.volunteer_id is not None and row.status in ACTIVE:  # the next presses: "taken"
            holders.of(session).held(
                wish_id, row.volunteer_id, row.grid_id, row.group_chat_id, row.group_message_id
            )
    if row is None or row.group_chat_id != chat_id or row.group_message_id != message_id:
        return False
    return bool(row.volunteer_status == "approved" and row.volunteer_grid == row.grid_id)


async def staff_covers_grid(session: AsyncSession, user_id: int, grid_id: int | None) -> bool:
    staff = await session.get(Staff, user_id)
    if staff is None:
        return False
    if staff.is_admin or staff.scope != "grid":
        return True
    return grid_id is not None and staff.grid_id == grid_id


async def owns(
    session: AsyncSession,
    kind: str,
    user_id: int,
    wish_id: int,
    *,
    chat_id: int,
    message_id: int,
) -> bool:
    """May ``user_id`` act on wish ``wish_id`` as ``kind`` says? Unknown wishes: no."""
    try:
        if kind == OFFERED_OR_AREA_POST and chat_id != user_id:
            # pressed in a group: only on the wish's post there
            return await _area_post(session, wish_id, user_id, chat_id, message_id)
        wish = await _wish(session, wish_id)
        if wish is None:
            return False
        resident_id, grid_id, holder_id = wish
        if kind == WISH_RESIDENT:
            return resident_id == user_id
        if kind == TASK_HOLDER:
            return holder_id == user_id
        if kind == TASK_PARTY:
            return user_id in (resident_id, holder_id)
        if kind == OFFERED:
            return await _offered(session, wish_id, user_id)
        if kind == OFFERED_OR_AREA_POST:
            return await _offered(session, wish_id, user_id)
        if kind == STAFF_SCOPE:
            return await staff_covers_grid(session, user_id, grid_id)
        if kind == FILER:
            filer = await session.scalar(
                select(ProxyFiling.filer_id).where(ProxyFiling.wish_id == wish_id)
            )
            return filer is not None and filer == user_id
        raise ValueError(f"unknown ownership kind {kind!r}")
    finally:
        await _done(session)


async def staff_may_see_wish(session: AsyncSession, user_id: int, wish_id: int) -> bool:
    """Staff whose scope covers the wish's grid (an unknown wish: yes, nothing to show)."""
    try:
        wish = await _wish(session, wish_id)
        return wish is None or await staff_covers_grid(session, user_id, wish[1])
    finally:
        await _done(session)


# --- suggestions (社情民意): ownership kinds whose callback names a ``suggestion_id`` ----------
SUGGESTION_RESIDENT = "suggestion_resident"  # the resident who filed it
SUGGESTION_SCOPE = "suggestion_scope"  # staff whose scope covers its grid
# Ownership kind → the callback field naming its subject (the others name a ``wish_id``).
SUBJECT_FIELDS = {SUGGESTION_RESIDENT: "suggestion_id", SUGGESTION_SCOPE: "suggestion_id"}


async def owns_suggestion(
    session: AsyncSession, kind: str, user_id: int, suggestion_id: int
) -> bool:
    """May ``user_id`` act on suggestion ``suggestion_id`` as ``kind`` says? Unknown: no."""
    from bot.db.models import Suggestion

    try:
        row = (
            await session.execute(
                select(Suggestion.resident_id, Suggestion.grid_id).where(
                    Suggestion.id == suggestion_id
                )
            )
        ).first()
        if row is None:
            return False
        if kind == SUGGESTION_RESIDENT:
            return bool(row[0] == user_id)
        if kind == SUGGESTION_SCOPE:
            return await staff_covers_grid(session, user_id, row[1])
        raise ValueError(f"unknown ownership kind {kind!r}")
    finally:
        await _done(session)
