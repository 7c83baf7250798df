"""All models, imported here so Base.metadata is complete for Alembic and tests."""

from bot.db.models.actions import ProcessedAction
from bot.db.models.delivery import Broadcast, OutboxMessage
from bot.db.models.events import Event, EventCheckinCode, EventSignup
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
from bot.db.models.points import Declaration, LedgerEntry, Redemption, Reward
from bot.db.models.roster import DutyReminder, RosterBatch, RosterEntry
from bot.db.models.tasks import Offer, RelayMessage
from bot.db.models.timers import CalendarRun, Timer
from bot.db.models.web import DisplayToken, WebLoginLink, WebSession, WishStaffCard
from bot.db.models.wishes import CategoryCorrection, Escalation, PendingInput, Wish, WishEvent

__all__ = [
    "AuditEntry",
    "Broadcast",
    "CalendarRun",
    "CategoryCorrection",
    "ConversationState",
    "Declaration",
    "DisplayToken",
    "DutyReminder",
    "Escalation",
    "Event",
    "EventCheckinCode",
    "EventSignup",
    "Grid",
    "InviteCode",
    "LedgerEntry",
    "Offer",
    "OutboxMessage",
    "PendingInput",
    "ProcessedAction",
    "Redemption",
    "RelayMessage",
    "Resident",
    "Reward",
    "RosterBatch",
    "RosterEntry",
    "Staff",
    "Timer",
    "User",
    "Volunteer",
    "WebLoginLink",
    "WebSession",
    "Wish",
    "WishEvent",
    "WishStaffCard",
]
