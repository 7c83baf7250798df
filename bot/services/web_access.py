"""Who may open the web dashboard: one-time login links sent by the bot, browser sessions
with idle expiry and a CSRF token, and read-only display tokens for the wall screen.

Secrets are random; only their SHA-256 is stored, so a copy of the database opens nothing.
A login link is also HMAC-signed with ``web.secret`` so a forged or truncated link is refused
before the database is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db.models import DisplayToken, Staff, User, WebLoginLink, WebSession
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError

LINK_MINUTES = 5
LABEL_MAX = 64


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signing_key(app: AppContext) -> bytes:
    return settings_signing_key(app.settings)


def settings_signing_key(settings: Settings) -> bytes:
    """The web's HMAC key, from config alone (the poster CLI signs links without a bot)."""
    web = settings.web
    if web.secret is not None:
        return web.secret.get_secret_value().encode()
    token = settings.telegram.token
    seed = token.get_secret_value() if token is not None else "wishbot-no-token"
    return hashlib.sha256(b"wishbot-web:" + seed.encode()).digest()


def _sign(app: AppContext, value: str) -> str:
    return hmac.new(signing_key(app), value.encode(), hashlib.sha256).hexdigest()[:32]


@transactional
async def issue_login_link(app: AppContext, session: AsyncSession, user_id: int) -> str:
    """A one-time login URL for a staff member (single use, LINK_MINUTES minutes)."""
    await begin_write(session)
    if await session.get(Staff, user_id) is None:
        raise UserError("errors.staff_only")
    secret = secrets.token_urlsafe(24)
    now = app.now()
    session.add(
        WebLoginLink(
            token_hash=_hash(secret),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    audit.record(session, user_id, "web.link_issued", "user", user_id)
    await session.commit()
    return f"{app.settings.web.base_url}/login/{secret}.{_sign(app, secret)}"


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str  # the secret the browser keeps
    user_id: int
    csrf: str


@transactional
async def redeem_login_link(
    app: AppContext, session: AsyncSession, token: str, client: str
) -> NewSession | None:
    """Open a session from a link; None when forged, used, expired or no longer staff."""
    secret, _, signature = token.partition(".")
    if not secret or not hmac.compare_digest(signature, _sign(app, secret)):
        return None
    await begin_write(session)
    now = app.now()
    link_hash = _hash(secret)
    # Conditional UPDATE: of two browsers racing with one link, exactly one gets it.
    result = await session.execute(
        update(WebLoginLink)
        .where(
            WebLoginLink.token_hash == link_hash,
            WebLoginLink.used_at.is_(None),
            WebLoginLink.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return None
    link = await session.get(WebLoginLink, link_hash)
    assert link is not None
    user = await session.get(User, link.user_id)
    if user is None or user.staff is None:
        await session.rollback()
        return None
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            id_hash=_hash(cookie),
            user_id=user.id,
            csrf=csrf,
            language=user.language,
            created_at=now,
            last_seen=now,
        )
    )
    audit.record(session, user.id, "web.login", "user", user.id, client=client[:64])
    await session.commit()
    return NewSession(cookie, user.id, csrf)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    id_hash: str
    user_id: int
    csrf: str
    language: str


async def touch_session(
    app: AppContext, session: AsyncSession, cookie: str
) -> ActiveSession | None:
    """The live session behind a cookie (its idle clock restarted), or None if ended/idle."""
    now = app.now()
    idle = timedelta(minutes=app.settings.web.session_idle_minutes)
    row = await session.get(WebSession, _hash(cookie))
    if row is None or row.ended_at is not None or row.last_seen + idle < now:
        await session.rollback()
        return None
    active = ActiveSession(row.id_hash, row.user_id, row.csrf, row.language)
    if now - row.last_seen > timedelta(seconds=30):  # spare a write on every click
        await session.rollback()
        await begin_write(session)
        await session.execute(
            update(WebSession).where(WebSession.id_hash == active.id_hash).values(last_seen=now)
        )
    await session.commit()
    return active


@dataclass(frozen=True, slots=True)
class SessionStaff:
    """The live session and, read in the same query, its user's staff row (None: not staff)."""

    active: ActiveSession
    staff_scope: str | None
    staff_grid_id: int | None
    display_name: str | None


async def touch_staff_session(
    app: AppContext, session: AsyncSession, cookie: str
) -> SessionStaff | None:
    """:func:`touch_session` and the staff row behind it in one query (a join), not three:
    the same expiry rules, the same idle-clock write."""
    now = app.now()
    idle = timedelta(minutes=app.settings.web.session_idle_minutes)
    row = (
        await session.execute(
            select(
                WebSession.id_hash,
                WebSession.user_id,
                WebSession.csrf,
                WebSession.language,
                WebSession.last_seen,
                WebSession.ended_at,
                Staff.scope,
                Staff.grid_id,
                User.id,
                User.display_name,
            )
            .outerjoin(Staff, Staff.user_id == WebSession.user_id)
            .outerjoin(User, User.id == WebSession.user_id)
            .where(WebSession.id_hash == _hash(cookie))
        )
    ).one_or_none()
    if row is None or row.ended_at is not None or row.last_seen + idle < now:
        await session.rollback()
        return None
    active = ActiveSession(row.id_hash, row.user_id, row.csrf, row.language)
    if now - row.last_seen > timedelta(seconds=30):  # spare a write on every click
        await session.rollback()
        await begin_write(session)
        await session.execute(
            update(WebSession).where(WebSession.id_hash == active.id_hash).values(last_seen=now)
        )
    await session.commit()
    is_staff = row.scope is not None and row.id is not None
    return SessionStaff(
        active,
        row.scope if is_staff else None,
        row.grid_id if is_staff else None,
        row.display_name,
    )


@transactional
async def end_session(app: AppContext, session: AsyncSession, active: ActiveSession) -> None:
    await begin_write(session)
    await session.execute(
        update(WebSession).where(WebSession.id_hash == active.id_hash).values(ended_at=app.now())
    )
    audit.record(session, active.user_id, "web.logout", "user", active.user_id)
    await session.commit()


@transactional
async def set_session_language(session: AsyncSession, active: ActiveSession, language: str) -> None:
    await begin_write(session)
    await session.execute(
        update(WebSession).where(WebSession.id_hash == active.id_hash).values(language=language)
    )
    await session.commit()


# --- display tokens (the wall screen) -------------------------------------------------------


async def _community_staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None or staff.scope != "community":
        raise UserError("web.community_staff_only")
    return staff


@transactional
async def issue_display_token(
    app: AppContext, session: AsyncSession, user_id: int, label: str, grid_id: int | None
) -> tuple[int, str]:
    """A new read-only wall-screen token; returns (id, secret). Community staff only."""
    await begin_write(session)
    await _community_staff(session, user_id)
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX:
        raise UserError("errors.text_length", max=LABEL_MAX)
    secret = secrets.token_urlsafe(24)
    row = DisplayToken(
        token_hash=_hash(secret),
        label=label,
        grid_id=grid_id,
        created_by=user_id,
        created_at=app.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(session, user_id, "web.display_issue", "display_token", row.id, label=label)
    await session.commit()
    return row.id, secret


@transactional
async def revoke_display_token(
    app: AppContext, session: AsyncSession, user_id: int, token_id: int
) -> None:
    await begin_write(session)
    await _community_staff(session, user_id)
    row = await session.get(DisplayToken, token_id)
    if row is None or row.revoked_at is not None:
        raise UserError("web.display_unknown")
    row.revoked_at = app.now()
    audit.record(session, user_id, "web.display_revoke", "display_token", token_id)
    await session.commit()


async def display_tokens(session: AsyncSession) -> list[DisplayToken]:
    rows = await session.scalars(
        select(DisplayToken).where(DisplayToken.revoked_at.is_(None)).order_by(DisplayToken.id)
    )
    return list(rows)


async def display_by_secret(session: AsyncSession, secret: str) -> DisplayToken | None:
    row = await session.scalar(
        select(DisplayToken).where(
            DisplayToken.token_hash == _hash(secret), DisplayToken.revoked_at.is_(None)
        )
    )
    return row


def new_csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")
