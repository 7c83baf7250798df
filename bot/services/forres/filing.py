"""The resident's consent, the wish filed on their behalf, and the filer standing in for them.

The wish goes through the ordinary intake (limits, classifier, review or auto-dispatch), so
matching, the task's life and the points are the same as for anyone. What is added: a consent
row (how, when, recorded by whom) and a filing row naming the filer, who then receives the
resident's notices (the Telegram notifier asks ``stand_in``) and confirms completion with the
resident in person.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ProxyFiling, ResidentConsent, User, Wish
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.forres.records import record_for
from bot.services.intake import wish_states, wishes
from bot.services.intake.history_notes import encode as history_note
from bot.services.notices import Notice
from bot.services.tasks import lifecycle

CONSENT_METHODS = ("spoken", "signed")
RELAYED = "forres.update"  # the kind of a resident's notice passed to the filer


@transactional
async def record_consent(
    app: AppContext, session: AsyncSession, filer_user_id: int, resident_id: int, method: str
) -> int:
    """The resident agreed (spoken or signed) that the filer files for them; returns its id."""
    if method not in CONSENT_METHODS:
        raise UserError("errors.stale_button")
    await record_for(app, session, filer_user_id, resident_id)  # scope and record re-checked
    await begin_write(session)
    consent = ResidentConsent(
        resident_id=resident_id, method=method, given_at=app.now(), recorded_by=filer_user_id
    )
    session.add(consent)
    await session.flush()
    audit.record(session, filer_user_id, "resident.consent", "user", resident_id, method=method)
    await session.commit()
    return int(consent.id)


async def draft_for(
    app: AppContext, session: AsyncSession, filer_user_id: int, resident_id: int, text: str
) -> wishes.Draft:
    """The resident's wish understood and checked against their limits; files nothing."""
    await record_for(app, session, filer_user_id, resident_id)
    draft = await wishes.draft_wish(app, session, resident_id, text)
    await session.commit()
    return draft


@transactional
async def file_for(
    app: AppContext,
    session: AsyncSession,
    filer_user_id: int,
    resident_id: int,
    consent_id: int,
    draft: wishes.Draft,
) -> Wish:
    """File the confirmed draft as the resident's wish, with the filer standing in for them."""
    await record_for(app, session, filer_user_id, resident_id)
    consent = await session.get(ResidentConsent, consent_id)
    if consent is None or consent.resident_id != resident_id:
        raise UserError("forres.consent_first")
    await session.commit()

    def filed_by(session: AsyncSession, wish: Wish) -> None:
        session.add(
            ProxyFiling(
                wish_id=wish.id, filer_id=filer_user_id, consent_id=consent_id, created_at=app.now()
            )
        )
        audit.record(session, filer_user_id, "wish.file_for", "wish", wish.id, resident=resident_id)
        wish_states.note(
            session, wish, history_note("filed_for"), actor_id=filer_user_id, at=app.now()
        )

    wish = await wishes.file_wish(app, session, resident_id, draft, with_wish=filed_by)
    return wish


async def filer_of_wish(session: AsyncSession, wish_id: int) -> int | None:
    filer = await session.scalar(select(ProxyFiling.filer_id).where(ProxyFiling.wish_id == wish_id))
    return int(filer) if filer is not None else None


async def stand_in(session: AsyncSession, resident_id: int, notice: Notice) -> int | None:
    """Who receives a notice meant for a resident without Telegram: the filer of the wish it is
    about (``params["id"]``); None for anything else (a web-form resident follows their wish on
    its status page, and nobody is told what was not about a wish filed for them)."""
    if notice.kind == RELAYED:
        return None
    wish_id = notice.params.get("id")
    if not isinstance(wish_id, int) or isinstance(wish_id, bool):
        return None
    user = await session.get(User, resident_id)
    if user is None or user.telegram_id is not None or user.deleted_at is not None:
        return None
    filer = await session.scalar(
        select(ProxyFiling.filer_id)
        .join(Wish, Wish.id == ProxyFiling.wish_id)
        .where(ProxyFiling.wish_id == wish_id, Wish.resident_id == resident_id)
    )
    return int(filer) if filer is not None else None


def relayed(resident_id: int, notice: Notice) -> Notice:
    """The resident's notice as their stand-in receives it."""
    return Notice(
        RELAYED,
        {
            "resident_id": resident_id,
            "id": notice.params.get("id"),
            "kind": notice.kind,
            "params": dict(notice.params),
        },
    )


@transactional
async def confirm_for(
    app: AppContext, session: AsyncSession, wish_id: int, filer_user_id: int, rating: int
) -> Wish:
    """居民当面确认: the filer confirms the finished task with the resident and gives their
    rating. The same state machine as the resident's own confirm: a second press is refused
    and points are awarded once."""
    wish = await session.get(Wish, wish_id, populate_existing=True)
    if wish is None:
        raise UserError("wish.unknown", id=wish_id)
    if await filer_of_wish(session, wish_id) != filer_user_id:
        raise UserError("forres.not_your_filing", id=wish_id)
    resident = await session.get(User, wish.resident_id)
    if resident is not None and resident.telegram_id is not None:
        raise UserError("forres.resident_confirms", id=wish_id)  # joined since: theirs now
    resident_id = wish.resident_id
    await session.commit()
    return await lifecycle.confirm(
        app, session, wish_id, resident_id, rating, actor_id=filer_user_id
    )
