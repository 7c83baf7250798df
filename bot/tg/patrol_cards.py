"""How patrols, hazards and posts look: cards, their buttons, and the notices' renderers.

Hazard cards go to grid staff only (they carry the reporter's name); nothing here is posted
in a group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Volunteer
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.patrols import attendance, hazards, shifts
from bot.services.patrols import shift_states as ss
from bot.services.patrols.shifts import MyShift, ShiftView
from bot.services.posts.posts import PostView, get_post
from bot.tg import keyboards as kb
from bot.tg.callbacks_patrols import HazardCb, PatrolCb, PatrolStaffCb, PostCb, PostStaffCb
from bot.tg.event_cards import when_text
from bot.tg.render import Rendered, renderer


def clock(app: AppContext, moment: datetime) -> str:
    return f"{moment.astimezone(app.settings.tz):%H:%M}"


def shift_text(app: AppContext, t: Translator, shift: ShiftView) -> str:
    description = f"{shift.description}\n" if shift.description else ""
    if not shift.has_point:
        description += f"{t('patrols.card_no_point')}\n"
    return t(
        "patrols.card" if shift.id else "patrols.card_draft",  # a draft has no number yet
        id=shift.id,
        name=shift.name,
        grid=shift.grid_name,
        when=when_text(app, t, shift.starts_at, shift.ends_at),
        description=description,
        taken=shift.taken,
        capacity=shift.capacity,
        status=t(f"patrols.status.{shift.status}"),
    )


def me_text(app: AppContext, t: Translator, mine: MyShift) -> str:
    if mine.checked_in_at is not None:
        return t("patrols.me_checked_in", time=clock(app, mine.checked_in_at))
    return t("patrols.me_signed") if mine.signed else t("patrols.me_not_signed")


def patroller_markup(app: AppContext, t: Translator, mine: MyShift) -> InlineKeyboardMarkup:
    shift = mine.shift

    def act(action: str) -> str:
        return PatrolCb(action=action, shift_id=shift.id).pack()

    rows = []
    if not mine.signed and shift.status == ss.OPEN:
        rows.append([kb.button(t("patrols.join"), act("join"))])
    if mine.signed and mine.checked_in_at is None and shift.status in ss.CHECKABLE:
        opens, closes = attendance.window(app, shift.starts_at, shift.ends_at)
        if opens <= app.now() < closes:
            if shift.has_point:
                rows.append([kb.button(t("patrols.check_in_here"), act("loc"))])
            rows.append([kb.button(t("patrols.type_code"), act("code"))])
        if shift.status in ss.UPCOMING:
            rows.append([kb.button(t("patrols.leave"), act("leave"))])
    return kb.rows(*rows)


def patroller_card(app: AppContext, t: Translator, mine: MyShift) -> Rendered:
    text = f"{shift_text(app, t, mine.shift)}\n{me_text(app, t, mine)}"
    return Rendered(text, patroller_markup(app, t, mine))


def staff_markup(app: AppContext, t: Translator, shift: ShiftView) -> InlineKeyboardMarkup:
    def act(action: str) -> str:
        return PatrolStaffCb(action=action, shift_id=shift.id).pack()

    rows = [[kb.button(t("patrols.staff.roll"), act("roll"))]]
    opens, closes = attendance.window(app, shift.starts_at, shift.ends_at)
    if shift.status in ss.CHECKABLE and opens <= app.now() < closes:
        rows.append([kb.button(t("patrols.staff.qr"), act("qr"))])
    if shift.status in (ss.OPEN, ss.FULL):
        rows.append([kb.button(t("patrols.staff.stop"), act("stop"))])
    if shift.status == ss.CLOSED:
        rows.append([kb.button(t("patrols.staff.reopen"), act("open"))])
    if shift.status == ss.IN_PROGRESS:
        rows.append([kb.button(t("patrols.staff.finish"), act("end"))])
    if shift.status in ss.UPCOMING:
        rows.append([kb.button(t("patrols.staff.call_off"), act("off"))])
    rows.append([kb.button(t("patrols.staff.hazards"), act("hz"))])
    return kb.rows(*rows)


def roll_text(app: AppContext, t: Translator, sheet: attendance.Roll) -> str:
    lines = [
        t(
            "patrols.staff.roll_head",
            id=sheet.shift.id,
            name=sheet.shift.name,
            present=sheet.present,
            total=len(sheet.rows),
        )
    ]
    for row in sheet.rows:
        at = row.checked_in_at
        lines.append(
            t(
                "patrols.staff.roll_line",
                mark="✅" if at is not None else "⬜",
                name=row.name,
                time=clock(app, at) if at is not None else "",
            ).rstrip()
        )
    return "\n".join(lines)


# --- hazards --------------------------------------------------------------------------------


def kind_name(t: Translator, kind: str) -> str:
    key = f"patrols.kind.{kind}"
    return t(key) if t.has(key) else kind


def hazard_markup(t: Translator, hazard_id: int) -> InlineKeyboardMarkup:
    def act(action: str) -> str:
        return HazardCb(action=action, hazard_id=hazard_id).pack()

    return kb.rows(
        [kb.button(t("patrols.hazard.to_wish"), act("wish"))],
        [kb.button(t("patrols.hazard.to_escalation"), act("esc"))],
        [kb.button(t("patrols.hazard.dismiss"), act("no"))],
    )


def departments_markup(app: AppContext, hazard_id: int) -> InlineKeyboardMarkup:
    buttons = [
        kb.button(d.name, HazardCb(action="esd", hazard_id=hazard_id, arg=d.id).pack())
        for d in app.settings.community.departments
    ]
    return kb.rows(*[buttons[i : i + 2] for i in range(0, len(buttons), 2)])


@renderer("patrols.hazard_card")
async def _hazard_card(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    try:
        hazard = await hazards.get(session, int(params["hazard_id"]))
    except UserError:
        return None
    grid = await session.get(Grid, hazard.grid_id)
    reporter = await session.get(Volunteer, hazard.reporter_id)
    where = (
        f"{hazard.lat:.5f}, {hazard.lon:.5f}"
        if hazard.lat is not None and hazard.lon is not None
        else t("patrols.hazard.no_location")
    )
    text = t(
        "patrols.hazard.card",
        id=hazard.id,
        kind=kind_name(t, hazard.kind),
        grid=grid.name if grid is not None else "",
        note=hazard.note or "—",
        where=where,
        reporter=reporter.name if reporter is not None else "—",
        shift=hazard.shift_id or "—",
    )
    markup = hazard_markup(t, hazard.id) if hazard.status == hazards.REPORTED else None
    return Rendered(text, markup, photo=hazard.photo_file_id)


# --- shift notices ----------------------------------------------------------------------------


async def _shift(session: AsyncSession, params: dict[str, Any]) -> ShiftView | None:
    try:
        return await shifts.load_view(session, int(params["shift_id"]))
    except UserError:
        return None


@renderer("patrols.invite")
async def _invite(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    shift = await _shift(session, params)
    if shift is None or shift.status != ss.OPEN:
        return None  # full, closed or called off before the invitation went out
    join = PatrolCb(action="join", shift_id=shift.id).pack()
    text = t("patrols.invite", card=shift_text(app, t, shift))
    return Rendered(text, kb.rows([kb.button(t("patrols.join"), join)]))


@renderer("patrols.called_off")
async def _called_off(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    shift = await _shift(session, params)
    if shift is None:
        return None
    when = when_text(app, t, shift.starts_at, shift.ends_at)
    return Rendered(t("patrols.called_off", name=shift.name, when=when))


# --- posts ----------------------------------------------------------------------------------


def post_state(
    app: AppContext, t: Translator, post: PostView, user_id: int | None, *, staff: bool = False
) -> str:
    """The post's state for this reader: the holder's name only for staff (and the holder)."""
    if post.status == "vacant" or post.term_ends_at is None:
        return t("posts.state_vacant")
    until = f"{post.term_ends_at.astimezone(app.settings.tz):%Y-%m-%d}"
    if post.holder_id == user_id:
        month = t("posts.this_month_done" if post.checked_in_this_month else "posts.this_month_due")
        return f"{t('posts.state_mine', until=until)} · {month}"
    if not staff:
        return t("posts.state_taken", until=until)
    return t("posts.state_held", name=post.holder_name or "—", until=until)


def post_text(
    app: AppContext, t: Translator, post: PostView, user_id: int | None, *, staff: bool = False
) -> str:
    return t(
        "posts.card",
        id=post.id,
        title=post.title,
        kind=t(f"posts.kind.{post.kind}"),
        grid=post.grid_name or t("posts.staff.whole_community"),
        duties=post.duties or "—",
        state=post_state(app, t, post, user_id, staff=staff),
    )


def member_markup(t: Translator, post: PostView, user_id: int) -> InlineKeyboardMarkup:
    def act(action: str) -> str:
        return PostCb(action=action, post_id=post.id).pack()

    if post.status == "vacant":
        return kb.rows([kb.button(t("posts.claim"), act("claim"))])
    if post.holder_id != user_id:
        return kb.rows()
    rows = [] if post.checked_in_this_month else [[kb.button(t("posts.checkin"), act("ci"))]]
    rows.append([kb.button(t("posts.give_back"), act("back"))])
    return kb.rows(*rows)


def staff_post_markup(t: Translator, post: PostView) -> InlineKeyboardMarkup:
    if post.status != "held":
        return kb.rows()
    end = PostStaffCb(action="end", post_id=post.id).pack()
    return kb.rows([kb.button(t("posts.staff.end_term"), end)])


@renderer("posts.checkin_reminder")
async def _checkin_reminder(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    try:
        post = await get_post(app, session, int(params["post_id"]))
    except UserError:
        return None
    if post.status != "held" or post.checked_in_this_month:
        return None  # given back, or checked in meanwhile
    data = PostCb(action="ci", post_id=post.id).pack()
    text = t("posts.checkin_reminder", title=post.title, month=params.get("month", ""))
    return Rendered(text, kb.rows([kb.button(t("posts.checkin"), data)]))
