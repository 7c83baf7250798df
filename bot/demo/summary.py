"""The demo's closing figures: what the story left in the database, in the reader's words."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import Resident, User, Volunteer, Wish
from bot.demo.stage import Stage
from bot.i18n import Translator

SHOWN = {"user_text", "user_press", "user_contact", "user_photo", "bot_send", "bot_edit"}


async def summary_counts(stage: Stage) -> dict[str, int]:
    """Residents (with a chat, and without: 代办 and the web form), volunteers, wishes."""
    async with stage.app.sessions() as session:
        return {
            "residents": int(
                await session.scalar(
                    select(func.count())
                    .select_from(Resident)
                    .join(User, User.id == Resident.user_id)
                    .where(User.telegram_id.is_not(None))
                )
                or 0
            ),
            "residents_no_chat": int(
                await session.scalar(
                    select(func.count())
                    .select_from(Resident)
                    .join(User, User.id == Resident.user_id)
                    .where(User.telegram_id.is_(None))
                )
                or 0
            ),
            "volunteers_approved": int(
                await session.scalar(
                    select(func.count())
                    .select_from(Volunteer)
                    .where(Volunteer.status == "approved", Volunteer.kind == "member")
                )
                or 0
            ),
            "wishes": int(await session.scalar(select(func.count()).select_from(Wish)) or 0),
            "wishes_closed": int(
                await session.scalar(
                    select(func.count()).select_from(Wish).where(Wish.status == "closed")
                )
                or 0
            ),
            "messages": sum(1 for e in stage.fake.events if e.kind in SHOWN),
        }


def summary_lines(t: Translator, summary: dict[str, int]) -> list[str]:
    """The end of the demo in the reader's language."""
    no_chat = summary.get("residents_no_chat", 0)
    return [
        t("demo.summary.residents", n=summary["residents"]),
        *([t("demo.summary.residents_no_chat", n=no_chat)] if no_chat else []),
        t("demo.summary.volunteers", n=summary["volunteers_approved"]),
        t("demo.summary.wishes", n=summary["wishes"], closed=summary["wishes_closed"]),
        t("demo.summary.steps", n=summary["messages"]),
    ]
