"""A Claim press on a grid post that someone else already holds, answered from memory.

Fifty volunteers press Claim on one post at once; after the first wins, each of the others
would go the whole way (conversation state, the person, the policy, the replay check, the
claim service) to be told "taken". The update pump asks here first: when this process knows
the post was claimed (:mod:`bot.services.tasks.holders`), it checks whether the declared rule
for that button would let the presser press it at all (an approved volunteer of the wish's
grid, on the wish's own post, the button really on it: see ``("t", "claim")`` in
:mod:`bot.tg.policy`) and in which language to answer, from the grid's volunteers read once
for the post (a few seconds' memory, like the holder's). If so, they hear exactly what the
claim service would have said, with no database work; anyone else (the holder pressing again,
a stranger, another grid, an unknown post) takes the full path, and its answers.
"""

from __future__ import annotations

import logging

from aiogram.types import Update
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User, Volunteer
from bot.i18n import Translator
from bot.services.tasks import holders
from bot.tg.authz import on_message
from bot.tg.callbacks_tasks import TaskCb

log = logging.getLogger(__name__)

_CLAIM = TaskCb.__prefix__ + TaskCb.__separator__ + "claim" + TaskCb.__separator__
_GRID_VOLUNTEERS = (
    select(User.telegram_id, User.id, User.language)
    .join(Volunteer, Volunteer.user_id == User.id)
    .where(Volunteer.grid_id == bindparam("grid_id"), Volunteer.status == "approved")
)


def claimed_wish(data: str | None) -> int | None:
    """The wish id of a plain Claim button's data ("t:claim:12:"), else None."""
    if not data or not data.startswith(_CLAIM):
        return None
    number, separator, arg = data[len(_CLAIM) :].partition(TaskCb.__separator__)
    if not separator or arg or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


async def answer_taken(update: Update, session: AsyncSession) -> bool:
    """True when the press was answered here ("taken"); False: handle it as usual."""
    query = update.callback_query
    if query is None:
        return False
    wish_id = claimed_wish(query.data)
    message = query.message
    if wish_id is None or message is None or message.chat.type not in ("group", "supergroup"):
        return False
    post = holders.of(session).post(wish_id)
    if post is None or (message.chat.id, message.message_id) != post.place:
        return False
    if not on_message(query):
        return False
    if post.pressers is None:  # the first such press reads who may press it, for the rest
        rows = await session.execute(_GRID_VOLUNTEERS, {"grid_id": post.grid_id})
        post.pressers = {
            int(tg): (int(uid), str(lang)) for tg, uid, lang in rows.all() if tg is not None
        }
    presser = post.pressers.get(query.from_user.id)
    if presser is None:
        return False  # not an approved volunteer of the grid: the policy's own refusal
    user_id, language = presser
    if user_id == post.holder_id:
        return False  # the holder's own second press: the first answer is given again
    t = Translator(language)
    log.debug("press on wish %s answered from memory: taken", wish_id)
    await query.answer(t("task.already_taken", id=wish_id), show_alert=True)
    return True
