"""All models, imported here so Base.metadata is complete for Alembic and tests."""

from bot.db.models.people import (
    AuditEntry,
    ConversationState,
    Grid,
    InviteCode,
    Resident,
    Staff,
    User,
    Volunteer,
)
from bot.db.models.tasks import Offer, RelayMessage
from bot.db.models.timers import Timer
from bot.db.models.wishes import CategoryCorrection, Escalation, PendingInput, Wish, WishEvent

__all__ = [
    "AuditEntry",
    "CategoryCorrection",
    "ConversationState",
    "Escalation",
    "Grid",
    "InviteCode",
    "Offer",
    "PendingInput",
    "RelayMessage",
    "Resident",
    "Staff",
    "Timer",
    "User",
    "Volunteer",
    "Wish",
    "WishEvent",
]
