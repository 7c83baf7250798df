"""All models, imported here so Base.metadata is complete for Alembic and tests."""

from bot.db.models.actions import ProcessedAction
from bot.db.models.delivery import Broadcast, OutboxMessage
from bot.db.models.events import Event, EventCheckinCode, EventSignup
from bot.db.models.feedback import EventRating, Suggestion, SuggestionEvent
from bot.db.models.forres import ProxyFiling, ResidentConsent
from bot.db.models.lists import (
    Convenor,
    DeclarationBatch,
    DeclarationBatchItem,
    Project,
    ProjectLink,
    ProjectMilestone,
    Resource,
)
from bot.db.models.patrols import (
    Hazard,
    PatrolCheckinCode,
    PatrolRoute,
    PatrolShift,
    PatrolSignup,
    Post,
    PostCheckin,
    PostTerm,
)
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
    "Convenor",
    "ConversationState",
    "Declaration",
    "DeclarationBatch",
    "DeclarationBatchItem",
    "DisplayToken",
    "DutyReminder",
    "Escalation",
    "Event",
    "EventCheckinCode",
    "EventRating",
    "EventSignup",
    "Grid",
    "Hazard",
    "InviteCode",
    "LedgerEntry",
    "Offer",
    "OutboxMessage",
    "PatrolCheckinCode",
    "PatrolRoute",
    "PatrolShift",
    "PatrolSignup",
    "PendingInput",
    "Post",
    "PostCheckin",
    "PostTerm",
    "ProcessedAction",
    "Project",
    "ProjectLink",
    "ProjectMilestone",
    "ProxyFiling",
    "Redemption",
    "RelayMessage",
    "Resident",
    "ResidentConsent",
    "Resource",
    "Reward",
    "RosterBatch",
    "RosterEntry",
    "Staff",
    "Suggestion",
    "SuggestionEvent",
    "Timer",
    "User",
    "Volunteer",
    "WebLoginLink",
    "WebSession",
    "Wish",
    "WishEvent",
    "WishStaffCard",
]
