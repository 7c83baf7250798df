"""The authorization policy: who may press which button and send which command, and where.

This table is the one place that says who may. ``bot/tg/authz.py`` enforces it before any
handler runs; handlers may keep their own checks. A callback whose prefix or action has no
rule here is refused like forged data, and a test fails for any button or command in
handlers/ without a rule.

roles: who (any of): resident, volunteer (approved), volunteer_pending, staff, admin,
    stranger (not registered, or registered as nothing); ANYONE is everyone.
where: "private" (the person's chat with the bot) and/or "group" (a linked group chat: a
    button only on the bot's post that carries it; a command typed there).
owner: an ownership or scope check on the wish in the callback (bot/services/authz.py).
arg: a regular expression the callback's ``arg`` must match in full.
deny: the locale key of the kind refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData

from bot.services import authz as own
from bot.services.people.actors import (
    ROLE_ADMIN,
    ROLE_RESIDENT,
    ROLE_STAFF,
    ROLE_VOLUNTEER,
    ROLE_VOLUNTEER_PENDING,
)
from bot.tg.callbacks import (
    ChoiceCb,
    ConfirmDeleteCb,
    GridCb,
    LangCb,
    MeCb,
    RoleCb,
    ToggleCb,
    VolunteerReviewCb,
    WishCb,
)
from bot.tg.callbacks_broadcast import BroadcastCb, BroadcastFormCb
from bot.tg.callbacks_events import EventCb, EventFormCb, EventRateCb, EventStaffCb
from bot.tg.callbacks_forres import ForResCb
from bot.tg.callbacks_lists import BatchCb, ConveneCb, ProjectCb, ResourceCb
from bot.tg.callbacks_patrols import (
    HazardCb,
    HazardFormCb,
    PatrolCb,
    PatrolFormCb,
    PatrolStaffCb,
    PostCb,
    PostFormCb,
    PostStaffCb,
)
from bot.tg.callbacks_points import (
    AdjustCb,
    DeclarationCb,
    DeclareFormCb,
    PassbookCb,
    RankCb,
    RedemptionCb,
    RewardAdminCb,
    ShopCb,
)
from bot.tg.callbacks_reports import RosterCb
from bot.tg.callbacks_suggest import SuggestCb, SuggestDraftCb
from bot.tg.callbacks_tasks import StaffTaskCb, TaskCb

STRANGER = "stranger"
ANYONE = frozenset(
    {STRANGER, ROLE_RESIDENT, ROLE_VOLUNTEER, ROLE_VOLUNTEER_PENDING, ROLE_STAFF, ROLE_ADMIN}
)
RESIDENT = frozenset({ROLE_RESIDENT})
VOLUNTEER = frozenset({ROLE_VOLUNTEER})
STAFF = frozenset({ROLE_STAFF, ROLE_ADMIN})
VOLUNTEER_OR_STAFF = VOLUNTEER | STAFF
PRIVATE = frozenset({"private"})
GROUP = frozenset({"group"})
EITHER = PRIVATE | GROUP
ANY_ACTION = "*"
DAYS = "(0|3|7|14)"
DIFFICULTY = "(easy|normal|hard)"
MAX_INT = 2**31 - 1  # ids and numbers in callback data; anything larger is forged


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[str]
    where: frozenset[str] = PRIVATE
    owner: str | None = None
    arg: str | None = None
    deny: str = "authz.denied"


# Every CallbackData class the bot packs, by prefix (unknown prefixes are forged).
CALLBACK_CLASSES: dict[str, type[CallbackData]] = {
    cls.__prefix__: cls
    for cls in (
        LangCb,
        RoleCb,
        GridCb,
        ChoiceCb,
        ToggleCb,
        VolunteerReviewCb,
        MeCb,
        ConfirmDeleteCb,
        WishCb,
        TaskCb,
        StaffTaskCb,
        BroadcastFormCb,
        BroadcastCb,
        EventCb,
        EventStaffCb,
        EventFormCb,
        PassbookCb,
        RankCb,
        ShopCb,
        RewardAdminCb,
        RedemptionCb,
        DeclarationCb,
        DeclareFormCb,
        AdjustCb,
        RosterCb,
        SuggestDraftCb,
        SuggestCb,
        EventRateCb,
        ForResCb,
        PatrolCb,
        PatrolStaffCb,
        PatrolFormCb,
        HazardFormCb,
        HazardCb,
        PostCb,
        PostStaffCb,
        PostFormCb,
        ConveneCb,  # issue 13, lists
        BatchCb,
        ResourceCb,
        ProjectCb,
    )
}

_anyone_private = Rule(ANYONE)
_staff = Rule(STAFF)
_staff_wish = Rule(STAFF, owner=own.STAFF_SCOPE)
_draft = Rule(ANYONE)  # the draft lives in the presser's own conversation state
_own_wish = Rule(RESIDENT, owner=own.WISH_RESIDENT)
_offer = Rule(VOLUNTEER, owner=own.OFFERED)
_holder = Rule(VOLUNTEER, owner=own.TASK_HOLDER)
_filer_form = Rule(VOLUNTEER_OR_STAFF, deny="forres.not_allowed")

# (prefix, action) → rule; ANY_ACTION covers a prefix without an action field or whose
# actions the handler validates itself (all private, one role).
CALLBACKS: dict[tuple[str, str], Rule] = {
    ("lang", ANY_ACTION): _anyone_private,
    ("role", ANY_ACTION): _anyone_private,
    ("grid", "pick"): _anyone_private,
    ("grid", "page"): _anyone_private,
    ("ch", ANY_ACTION): _anyone_private,
    ("tg", ANY_ACTION): _anyone_private,
    ("me", ANY_ACTION): _anyone_private,
    ("del", ANY_ACTION): _anyone_private,
    ("vr", "ok"): _staff,
    ("vr", "no"): _staff,
    # A resident's draft (wish id 0) and their own wishes.
    **{("w", a): _draft for a in ("ok", "chcat", "chtime", "drop", "setcat", "allcat", "new")},
    ("w", "settime"): Rule(ANYONE, arg="(today|tomorrow|weekend|nextweek|flex)"),
    ("w", "dup"): Rule(ANYONE, arg=r"\d{1,9}"),
    ("w", "open"): _own_wish,
    ("w", "cx"): _own_wish,
    ("w", "cxy"): _own_wish,
    ("w", "add"): _own_wish,
    # Staff review, within their scope.
    **{("w", a): _staff_wish for a in ("ap", "cat", "rj", "mg", "es", "ans", "view")},
    ("w", "apd"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=DIFFICULTY),
    ("w", "apx"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=f"{DIFFICULTY}-{DAYS}"),
    ("w", "setc"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=r"[a-z_]{1,24}"),
    ("w", "mgd"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=r"\d{1,9}"),  # merge into a neighbour's
    ("w", "esd"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=r"[A-Za-z0-9_\-]{1,32}"),
    ("w", "esx"): Rule(STAFF, owner=own.STAFF_SCOPE, arg=DAYS),
    ("w", "ansc"): _staff_wish,
    ("w", "anso"): _staff_wish,
    # Offers and tasks.
    ("t", "claim"): Rule(VOLUNTEER, where=EITHER, owner=own.OFFERED_OR_AREA_POST),
    ("t", "decl"): _offer,
    ("t", "declr"): Rule(VOLUNTEER, owner=own.OFFERED, arg=r"[a-z_]{1,16}"),
    ("t", "pause"): _offer,
    ("t", "when"): _holder,
    ("t", "done"): _holder,
    ("t", "donenow"): _holder,
    ("t", "rel"): _holder,
    ("t", "relr"): Rule(VOLUNTEER, owner=own.TASK_HOLDER, arg=r"[a-z_]{1,16}"),
    ("t", "open"): _holder,
    ("t", "phone"): _holder,
    ("t", "msg"): Rule(RESIDENT | VOLUNTEER, owner=own.TASK_PARTY),
    ("t", "rate"): Rule(RESIDENT, owner=own.WISH_RESIDENT, arg="[1-5]"),
    ("t", "disp"): _own_wish,
    ("t", "nocmt"): _own_wish,
    **{("st", a): _staff_wish for a in ("verify", "accept", "redo", "close", "why")},
    # Broadcasts, events, points, reports.
    ("bcf", ANY_ACTION): _staff,
    ("bc", ANY_ACTION): _staff,
    ("ev", "join"): Rule(VOLUNTEER, where=EITHER, deny="events.group_register_first"),
    ("ev", "leave"): Rule(VOLUNTEER),
    ("ev", "out"): Rule(VOLUNTEER),
    ("ev", "view"): Rule(VOLUNTEER),
    ("evs", ANY_ACTION): _staff,
    ("evf", ANY_ACTION): _staff,
    ("pb", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF),
    ("rk", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF),
    ("sh", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF),
    ("df", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF),
    ("rw", ANY_ACTION): _staff,
    ("rd", ANY_ACTION): _staff,
    ("dc", ANY_ACTION): _staff,
    ("adj", ANY_ACTION): _staff,
    ("ros", ANY_ACTION): _staff,
    # Suggestions (社情民意): the resident's choice and verdict, staff within their scope.
    ("sgd", ANY_ACTION): Rule(RESIDENT, deny="authz.residents_only"),
    **{
        ("sg", a): Rule(STAFF, owner=own.SUGGESTION_SCOPE)
        for a in ("view", "ans", "fix", "done", "dec")
    },
    ("sg", "own"): Rule(STAFF, owner=own.SUGGESTION_SCOPE, arg=r"\d{1,10}"),
    ("sg", "due"): Rule(STAFF, owner=own.SUGGESTION_SCOPE, arg=r"\d{1,10}-(3|7|14|30)"),
    ("sg", "sat"): Rule(RESIDENT, owner=own.SUGGESTION_RESIDENT),
    ("sg", "uns"): Rule(RESIDENT, owner=own.SUGGESTION_RESIDENT),
    # Event evaluation: an attendee rates (the service checks they attended).
    ("evr", "star"): Rule(VOLUNTEER, arg="[1-5]"),
    ("evr", "cmt"): Rule(VOLUNTEER),
    ("evr", "skip"): Rule(VOLUNTEER),
    # Filing on behalf (代办): grid workers and staff, volunteers where the community allows
    # (the service checks that setting and the grid scope of the record); the in-person
    # confirm only by the wish's filer.
    **{("fr", a): _filer_form for a in ("new", "ok", "chcat", "drop")},
    ("fr", "pick"): Rule(VOLUNTEER_OR_STAFF, arg=r"\d{1,9}", deny="forres.not_allowed"),
    ("fr", "cons"): Rule(VOLUNTEER_OR_STAFF, arg="(spoken|signed|no)", deny="forres.not_allowed"),
    ("fr", "setcat"): Rule(VOLUNTEER_OR_STAFF, arg=r"[a-z_]{1,24}", deny="forres.not_allowed"),
    ("fr", "conf"): Rule(VOLUNTEER_OR_STAFF, owner=own.FILER, arg="[1-5]"),
    # 治安巡查 and standing posts: ids only; the services re-check grid and holder.
    ("pt", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF, deny="patrols.patrollers_only"),
    ("pts", ANY_ACTION): _staff,
    ("ptf", ANY_ACTION): _staff,
    ("hzf", ANY_ACTION): Rule(VOLUNTEER_OR_STAFF, deny="patrols.patrollers_only"),
    ("hz", "wish"): _staff,
    ("hz", "esc"): _staff,
    ("hz", "esd"): Rule(STAFF, arg=r"[A-Za-z0-9_\-]{1,32}"),
    ("hz", "no"): _staff,
    ("po", ANY_ACTION): Rule(VOLUNTEER, deny="posts.members_only"),
    ("pos", ANY_ACTION): _staff,
    ("pof", ANY_ACTION): _staff,
    # Issue 13, lists: 召集人汇总 (the services check convenorship and grid scope).
    ("cv", "fwd"): Rule(VOLUNTEER),
    **{("cvb", a): _staff for a in ("all", "ok", "no", "ret")},
    # 三张清单: resources and projects (the services check the staff member's grid).
    **{("rs", a): _staff for a in ("off", "on")},
    **{("pj", a): _staff for a in ("ms", "fin")},
}

_cmd = Rule(ANYONE)
COMMANDS: dict[str, Rule] = {
    "start": _cmd,
    "help": _cmd,
    "language": _cmd,
    "cancel": _cmd,
    "delete_me": _cmd,
    "me": _cmd,
    "myid": _cmd,
    "wish": _cmd,  # a stranger's wish is kept until they register
    "mywishes": Rule(RESIDENT, deny="authz.residents_only"),
    "mytasks": Rule(VOLUNTEER, deny="authz.volunteers_only"),
    "availability": Rule(VOLUNTEER, deny="authz.volunteers_only"),
    "events": Rule(VOLUNTEER, deny="authz.volunteers_only"),
    "checkin": Rule(VOLUNTEER_OR_STAFF, deny="authz.volunteers_only"),
    **{
        c: Rule(VOLUNTEER_OR_STAFF, deny="authz.volunteers_only")
        for c in ("points", "rank", "shop", "declare")
    },
    **{
        c: Rule(STAFF, deny="errors.staff_only")
        for c in (
            "queue",
            "pending",
            "invite",
            "why",
            "broadcast",
            "broadcasts",
            "newevent",
            "adjust",
            "rewards",
            "handover",
            "evaluation",
            "awards",
            "rates",
            "roster",
            "web",
            "stats",
        )
    },
    "linkgroup": Rule(STAFF, where=GROUP, deny="groups.staff_only"),
    "unlinkgroup": Rule(STAFF, where=GROUP, deny="groups.staff_only"),
    "suggest": Rule(RESIDENT, deny="authz.residents_only"),
    "suggestions": Rule(STAFF, deny="errors.staff_only"),
    "forresident": Rule(VOLUNTEER_OR_STAFF, deny="forres.not_allowed"),
    # 治安巡查 and standing posts (volunteers and grid workers patrol; members hold posts).
    "patrols": Rule(VOLUNTEER_OR_STAFF, deny="patrols.patrollers_only"),
    "hazard": Rule(VOLUNTEER_OR_STAFF, deny="patrols.patrollers_only"),
    "posts": Rule(VOLUNTEER_OR_STAFF, deny="posts.members_only"),
    **{c: Rule(STAFF, deny="errors.staff_only") for c in ("newpatrol", "newpost", "patrolstats")},
    # Issue 13, lists: 党群接单 (a resident signs up to help).
    "helper": Rule(RESIDENT, deny="helper.residents_only"),
    "convene": Rule(VOLUNTEER, deny="authz.volunteers_only"),
    "convenor": Rule(STAFF, deny="errors.staff_only"),
    "batches": Rule(STAFF, deny="errors.staff_only"),
    **{
        c: Rule(STAFF, deny="errors.staff_only")
        for c in (
            "resources",
            "resource",
            "addresource",
            "editresource",
            "projects",
            "project",
            "newproject",
            "milestone",
            "projectlink",
        )
    },
}


def callback_rule(prefix: str, action: str | None) -> Rule | None:
    if action is not None and (prefix, action) in CALLBACKS:
        return CALLBACKS[(prefix, action)]
    return CALLBACKS.get((prefix, ANY_ACTION))
