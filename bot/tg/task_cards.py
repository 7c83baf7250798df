"""Offer cards, task cards, group posts and the notices of the task's life."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Grid, Offer, Resident, User, Volunteer, Wish
from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.intake import history_notes
from bot.services.privacy import mask_personal
from bot.tg import keyboards as kb
from bot.tg.callbacks_tasks import StaffTaskCb, TaskCb
from bot.tg.render import Rendered, renderer
from bot.tg.wish_cards import category_name, time_text, wish_summary

HOLDING = ("claimed", "in_progress")


def when_text(app: AppContext, t: Translator, stamp: int) -> str:
    local = datetime.fromtimestamp(stamp, UTC).astimezone(app.settings.tz)
    return f"{local:%m-%d} {t(f'weekday.{local.weekday()}')} {local:%H:%M}"


def _public_summary(app: AppContext, t: Translator, wish: Wish, grid: Grid | None) -> str:
    """What anyone offered the wish may see: no name, no building, no phone."""
    return t(
        "offer.summary",
        id=wish.id,
        category=category_name(app, t, wish.category),
        time=time_text(app, t, wish.time_start, wish.time_end),
        urgency=t("wish.urgent" if wish.urgent else "wish.not_urgent"),
        grid=grid.name if grid else "",
        text=mask_personal(wish.text),
    )


@renderer("offer.card")
async def _offer_card(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    offer = await session.get(Offer, int(params["offer_id"]))
    if offer is None:
        return None
    wish = await session.get(Wish, offer.wish_id)
    if wish is None:
        return None
    grid = await session.get(Grid, wish.grid_id)
    w = wish.id
    markup = kb.rows(
        [kb.button(t("offer.claim"), TaskCb(action="claim", wish_id=w).pack())],
        [
            kb.button(t("offer.decline"), TaskCb(action="decl", wish_id=w).pack()),
            kb.button(t("offer.pause_week"), TaskCb(action="pause", wish_id=w).pack()),
        ],
    )
    return Rendered(
        f"{t('offer.header')}\n\n{_public_summary(app, t, wish, grid)}", markup, wish.photo_file_id
    )


@renderer("offer.taken")
async def _offer_taken(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None:
        return None
    grid = await session.get(Grid, wish.grid_id)
    return Rendered(
        f"{t('offer.taken', id=wish.id)}\n\n{_public_summary(app, t, wish, grid)}",
        None,
        wish.photo_file_id,
    )


@renderer("group.wish_post")
async def _group_post(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None:
        return None
    grid = await session.get(Grid, wish.grid_id)
    status = t("group.status", status=t(f"status.wish.{wish.status}"))
    text = f"{t('group.wish_header')}\n\n{_public_summary(app, t, wish, grid)}\n{status}"
    markup = None
    if wish.status in ("approved", "offered"):
        markup = kb.rows(
            [kb.button(t("offer.claim"), TaskCb(action="claim", wish_id=wish.id).pack())]
        )
    return Rendered(text, markup)


def task_buttons(
    t: Translator, wish: Wish, *, phone: bool = False
) -> kb.InlineKeyboardMarkup | None:
    w = wish.id
    if wish.status not in HOLDING:
        return None
    extra = (
        [[kb.button(t("task.show_phone"), TaskCb(action="phone", wish_id=w).pack())]]
        if phone
        else []
    )
    return kb.rows(
        *extra,
        [
            kb.button(t("task.set_time"), TaskCb(action="when", wish_id=w).pack()),
            kb.button(t("task.message_resident"), TaskCb(action="msg", wish_id=w).pack()),
        ],
        [
            kb.button(t("task.mark_done"), TaskCb(action="done", wish_id=w).pack()),
            kb.button(t("task.release"), TaskCb(action="rel", wish_id=w).pack()),
        ],
    )


async def card_now(
    session: AsyncSession, app: AppContext, t: Translator, wish_id: int, for_user: int
) -> Rendered | None:
    """A task or offer card as it should look now to `for_user`: the full task card while
    they hold the task; otherwise the public summary with its current status, no buttons."""
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        return None
    if wish.volunteer_id == for_user and wish.status in HOLDING:
        return await task_card(session, app, t, wish_id, for_user)
    grid = await session.get(Grid, wish.grid_id)
    status = t("task.card_now", id=wish.id, status=t(f"status.wish.{wish.status}"))
    return Rendered(f"{status}\n\n{_public_summary(app, t, wish, grid)}", photo=wish.photo_file_id)


OFFER_OPEN = ("approved", "offered")


async def stale_task_card(
    session: AsyncSession,
    app: AppContext,
    t: Translator,
    wish_id: int,
    for_user: int,
    *,
    offer: bool,
) -> tuple[Rendered | None, str] | None:
    """For a press on an offer (`offer`) or task card: None while the wish still allows it,
    else (the card as it is now, why the press did nothing). A task card's buttons are
    compared by the caller (stale.is_current); an offer is open while nobody holds the wish."""
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        return None
    notice = t("task.card_updated", id=wish.id, status=t(f"status.wish.{wish.status}"))
    if offer:
        if wish.status in OFFER_OPEN and wish.volunteer_id is None:
            return None
        if wish.volunteer_id == for_user and wish.status in HOLDING:
            return None  # their own claim: the service answers "already yours"
        if wish.volunteer_id is not None and wish.status in HOLDING:
            notice = t("task.already_taken", id=wish.id)
    return await card_now(session, app, t, wish_id, for_user), notice


async def task_card(
    session: AsyncSession, app: AppContext, t: Translator, wish_id: int, for_user: int
) -> Rendered | None:
    """The volunteer's view: contact details only while they hold the task."""
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None or wish.volunteer_id != for_user:
        return None
    grid = await session.get(Grid, wish.grid_id)
    lines = [wish_summary(app, t, wish, grid.name if grid else None)]
    resident = await session.get(Resident, wish.resident_id)
    if wish.status in HOLDING and resident is not None:
        lines.append(t("task.where", building=resident.building or t("task.building_unknown")))
        # The number itself is shown only in a pop-up on request (re-checked then), so it does
        # not stay in the volunteer's chat history after the task.
        key = "task.phone_hint" if resident.share_phone and resident.phone else "task.no_phone"
        lines.append(t(key))
        # 代办 or web form: no chat with the bot, so the volunteer phones them.
        chat = await session.scalar(select(User.telegram_id).where(User.id == wish.resident_id))
        if chat is None:
            lines.append(t("forres.no_chat_call"))
    if wish.agreed_at is not None:
        lines.append(t("task.agreed", when=when_text(app, t, int(wish.agreed_at.timestamp()))))
    phone = resident is not None and resident.share_phone and bool(resident.phone)
    return Rendered("\n".join(lines), task_buttons(t, wish, phone=phone), wish.photo_file_id)


@renderer("task.card")
async def _task_card(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None or wish.volunteer_id is None:
        return None
    card = await task_card(session, app, t, wish.id, wish.volunteer_id)
    if card is None:
        return None
    intro = params.get("intro")
    text = (
        f"{t('task.claimed_intro', id=wish.id)}\n\n{card.text}" if intro == "claimed" else card.text
    )
    return Rendered(text, card.markup, card.photo)


@renderer("task.card_now")
async def _task_card_now(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return await card_now(session, app, t, int(params["id"]), int(params["for_user"]))


@renderer("task.claimed_resident")
async def _claimed_resident(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None or wish.volunteer_id is None:
        return None
    volunteer = await session.get(Volunteer, wish.volunteer_id)
    name = volunteer.name if volunteer else t("task.a_volunteer")
    markup = kb.rows(
        [kb.button(t("task.message_volunteer"), TaskCb(action="msg", wish_id=wish.id).pack())]
    )
    return Rendered(t("task.claimed_resident", id=wish.id, name=name), markup)


@renderer("task.time_set_resident")
async def _time_set(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return Rendered(
        t("task.time_set_resident", id=params["id"], when=when_text(app, t, int(params["when"])))
    )


@renderer("task.reminder")
async def _reminder(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None:
        return None
    text = t("task.reminder", id=wish.id, when=when_text(app, t, int(params["when"])))
    return Rendered(text, task_buttons(t, wish))


@renderer("task.nudge")
async def _nudge(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None:
        return None
    return Rendered(t("task.nudge", id=wish.id), task_buttons(t, wish))


@renderer("relay.message")
async def _relay(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    who = t("relay.from_resident" if params["from"] == "resident" else "relay.from_volunteer")
    markup = kb.rows(
        [kb.button(t("relay.reply"), TaskCb(action="msg", wish_id=int(params["id"])).pack())]
    )
    text = mask_personal(str(params["text"]))  # contact goes by the contact button only
    return Rendered(t("relay.message", id=params["id"], who=who, text=text), markup)


@renderer("task.done_resident")
async def _done_resident(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None or wish.status != "done":
        return None
    w = wish.id
    stars = [
        kb.button("⭐" * n, TaskCb(action="rate", wish_id=w, arg=str(n)).pack())
        for n in range(1, 6)
    ]
    markup = kb.rows(
        stars[:3],
        stars[3:],
        [
            kb.button(t("task.dispute"), TaskCb(action="disp", wish_id=w).pack()),
            kb.button(t("task.message_volunteer"), TaskCb(action="msg", wish_id=w).pack()),
        ],
    )
    key = "task.confirm_reminder" if params.get("reminder") else "task.done_resident"
    note = t("task.done_note", note=mask_personal(wish.done_note)) if wish.done_note else ""
    return Rendered(t(key, id=w) + note, markup, wish.done_photo_file_id)


@renderer("task.confirmed_volunteer")
async def _confirmed_volunteer(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return Rendered(
        t("task.confirmed_volunteer", id=params["id"], stars="⭐" * int(params["rating"]))
    )


async def _staff_task_text(
    session: AsyncSession, app: AppContext, t: Translator, wish: Wish
) -> str:
    grid = await session.get(Grid, wish.grid_id)
    volunteer = await session.get(Volunteer, wish.volunteer_id) if wish.volunteer_id else None
    lines = [wish_summary(app, t, wish, grid.name if grid else None)]
    if volunteer is not None:
        lines.append(t("staff.task_volunteer", name=volunteer.name))
    if wish.done_note:
        lines.append(t("staff.task_done_note", note=mask_personal(wish.done_note)))
    if wish.rating:
        lines.append(
            t(
                "staff.task_rating",
                stars="⭐" * wish.rating,
                comment=mask_personal(wish.rating_comment),
            )
        )
    return "\n".join(lines)


@renderer("staff.verify_card")
async def _verify_card(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None or wish.status not in ("confirmed", "done"):
        return None
    head = t(
        "staff.unconfirmed_header" if params.get("unconfirmed") else "staff.verify_header",
        id=wish.id,
    )
    markup = kb.rows(
        [
            kb.button(t("staff.verify"), StaffTaskCb(action="verify", wish_id=wish.id).pack()),
            kb.button(t("staff.why_button"), StaffTaskCb(action="why", wish_id=wish.id).pack()),
        ],
    )
    return Rendered(
        f"{head}\n\n{await _staff_task_text(session, app, t, wish)}",
        markup,
        wish.done_photo_file_id,
    )


@renderer("staff.dispute_card")
async def _dispute_card(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    wish = await session.get(Wish, int(params["id"]))
    if wish is None or wish.status != "disputed":
        return None
    reason = history_notes.plain_text(wish.history[-1].note) if wish.history else ""
    w = wish.id
    markup = kb.rows(
        [kb.button(t("staff.dispute_accept"), StaffTaskCb(action="accept", wish_id=w).pack())],
        [
            kb.button(t("staff.dispute_redo"), StaffTaskCb(action="redo", wish_id=w).pack()),
            kb.button(t("staff.dispute_close"), StaffTaskCb(action="close", wish_id=w).pack()),
        ],
    )
    head = t("staff.dispute_header", id=w, reason=reason or "—")
    text = f"{head}\n\n{await _staff_task_text(session, app, t, wish)}"
    return Rendered(text, markup)


async def _alert(
    session: AsyncSession, app: AppContext, t: Translator, wish_id: int, key: str
) -> Rendered | None:
    wish = await session.get(Wish, wish_id)
    if wish is None:
        return None
    markup = kb.rows(
        [kb.button(t("staff.why_button"), StaffTaskCb(action="why", wish_id=wish.id).pack())]
    )
    return Rendered(
        f"{t(key, id=wish.id)}\n\n{await _staff_task_text(session, app, t, wish)}", markup
    )


@renderer("staff.no_taker")
async def _no_taker(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return await _alert(session, app, t, int(params["id"]), "staff.no_taker")


@renderer("staff.overdue")
async def _overdue(
    session: AsyncSession, app: AppContext, t: Translator, params: dict[str, Any]
) -> Rendered | None:
    return await _alert(session, app, t, int(params["id"]), "staff.overdue")
