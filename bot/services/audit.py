"""The audit trail: one row per action on an object; never holds a phone number."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry


def record(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: object,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail,
        )
    )
