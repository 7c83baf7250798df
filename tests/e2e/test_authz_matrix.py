"""The authorization matrix: every button action and every command, as every persona.

The expected matrix below is written out by hand (who may, per action), independently of
bot/tg/policy.py; the presses go through the bot's own check (bot/tg/authz.py) with real
rows in the database: the wish's resident, another resident, the volunteer offered the
wish (who then holds it), a volunteer of the grid not offered it, a volunteer of another
grid, grid staff of another grid, community staff, a stranger, and a volunteer of the grid
pressing in the grid's linked group on the wish's post. A button or command in the code
without a rule fails ``test_every_button_and_command_has_a_rule``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)
from aiogram.types import User as TgUser
from sqlalchemy import select

from bot.db.models import Grid, Staff, Wish
from bot.demo.stage import Person, Stage
from bot.i18n import Translator
from bot.services.intake import dispatch, wishes
from bot.services.people import actors
from bot.services.suggestions import loop as suggestion_loop
from bot.services.tasks import claims
from bot.tg import authz, policy
from handlers import routers
from tests.e2e.seed import resident, user_id, volunteer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GROUP_CHAT, POST_ID = -100888, 77
R, R2, OV, NV, XV, XS, CS, S, G = "R", "R2", "OV", "NV", "XV", "XS", "CS", "S", "G"
PERSONAS = (R, R2, OV, NV, XV, XS, CS, S, G)
PRIVATE = frozenset({R, R2, OV, NV, XV, XS, CS, S})
VOLUNTEERS = frozenset({OV, NV, XV})
STAFF = frozenset({XS, CS})

# Who may, per (prefix, action); "*" = any action of the prefix. Written from the issue.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    **{(p, "*"): PRIVATE for p in ("lang", "role", "ch", "tg", "me", "del")},
    ("grid", "pick"): PRIVATE,
    ("grid", "page"): PRIVATE,
    **{("w", a): PRIVATE for a in ("ok", "chcat", "chtime", "drop", "setcat", "allcat", "new")},
    ("w", "settime"): PRIVATE,
    ("w", "dup"): PRIVATE,
    **{("w", a): frozenset({R}) for a in ("open", "cx", "cxy", "add")},
    **{
        ("w", a): frozenset({CS})  # the wish is in G02; the grid staff is G01's
        for a in (
            "ap",
            "apd",
            "apx",
            "cat",
            "setc",
            "rj",
            "mg",
            "mgd",
            "es",
            "esd",
            "esx",
            "ans",
            "ansc",
            "anso",
            "view",
        )
    },
    ("t", "claim"): frozenset({OV, G}),
    **{("t", a): frozenset({OV}) for a in ("decl", "declr", "pause")},
    **{
        ("t", a): frozenset({OV})
        for a in ("when", "done", "donenow", "rel", "relr", "open", "phone")
    },
    ("t", "msg"): frozenset({R, OV}),
    **{("t", a): frozenset({R}) for a in ("rate", "disp", "nocmt")},
    **{("st", a): frozenset({CS}) for a in ("verify", "accept", "redo", "close", "why")},
    ("vr", "ok"): STAFF,
    ("vr", "no"): STAFF,
    **{(p, "*"): STAFF for p in ("bcf", "bc", "evs", "evf", "rw", "rd", "dc", "adj", "ros")},
    ("ev", "join"): VOLUNTEERS,  # in the group only on that event's post: not this one
    **{("ev", a): VOLUNTEERS for a in ("leave", "out", "view")},
    **{(p, "*"): VOLUNTEERS | STAFF for p in ("pb", "rk", "sh", "df")},
    # Suggestions: R filed one in G02 (the grid staff XS is G01's); any resident may choose
    # what their own message is; only R may say whether R's suggestion was handled well.
    ("sgd", "*"): frozenset({R, R2}),
    **{("sg", a): frozenset({CS}) for a in ("view", "ans", "fix", "own", "due", "done", "dec")},
    **{("sg", a): frozenset({R}) for a in ("sat", "uns")},
    # Rating an event: volunteers (the service checks that they attended).
    **{("evr", a): VOLUNTEERS for a in ("star", "cmt", "skip")},
    # 代办's form: the policy lets volunteers and staff in; the service then refuses volunteers
    # unless the community allows them, and checks the record's grid (tests/e2e/test_forres.py).
    **{
        ("fr", a): VOLUNTEERS | STAFF
        for a in ("new", "ok", "chcat", "drop", "pick", "cons", "setcat")
    },
    ("fr", "conf"): frozenset(),  # only the wish's filer; this wish was filed by its resident
    # 治安巡查 and standing posts (issue 13): patrollers are volunteers and grid workers.
    **{(p, "*"): VOLUNTEERS | STAFF for p in ("pt", "hzf")},
    **{(p, "*"): STAFF for p in ("pts", "ptf", "pos", "pof")},
    **{("hz", a): STAFF for a in ("wish", "esc", "esd", "no")},
    ("po", "*"): VOLUNTEERS,
    # Issue 13, lists: a convenor is a volunteer (the service refuses others kindly).
    ("cv", "fwd"): VOLUNTEERS,
    **{("cvb", a): STAFF for a in ("all", "ok", "no", "ret")},
    **{("rs", a): STAFF for a in ("off", "on")},
    **{("pj", a): STAFF for a in ("ms", "fin")},
}

EVERYONE_PRIVATE = PRIVATE
EXPECTED_COMMANDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("start", "help", "language", "cancel", "delete_me", "me", "myid", "wish"),
        EVERYONE_PRIVATE,
    ),
    "mywishes": frozenset({R, R2}),
    **dict.fromkeys(("mytasks", "availability", "events"), VOLUNTEERS),
    **dict.fromkeys(("checkin", "points", "rank", "shop", "declare"), VOLUNTEERS | STAFF),
    **dict.fromkeys(
        (
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
        ),
        STAFF,
    ),
    # Only in a group, and only staff (the presser "G" in the group is a volunteer).
    "linkgroup": frozenset(),
    "unlinkgroup": frozenset(),
    "suggest": frozenset({R, R2}),
    "suggestions": STAFF,
    "forresident": VOLUNTEERS | STAFF,
    **dict.fromkeys(("patrols", "hazard", "posts"), VOLUNTEERS | STAFF),
    **dict.fromkeys(("newpatrol", "newpost", "patrolstats"), STAFF),
    # Issue 13, lists.
    "helper": frozenset({R, R2}),
    "convene": VOLUNTEERS,
    "convenor": STAFF,
    "batches": STAFF,
    **dict.fromkeys(
        (
            "resources",
            "resource",
            "addresource",
            "editresource",
            "projects",
            "project",
            "newproject",
            "milestone",
            "projectlink",
        ),
        STAFF,
    ),
}
ARGS = {
    ("w", "settime"): "today",
    ("w", "dup"): "1",
    ("w", "apd"): "normal",
    ("w", "apx"): "normal-3",
    ("w", "setc"): "repair",
    ("w", "mgd"): "2",
    ("w", "esd"): "housing",
    ("w", "esx"): "7",
    ("t", "declr"): "busy",
    ("t", "relr"): "busy",
    ("t", "rate"): "5",
    ("sg", "own"): "1",
    ("sg", "due"): "1-7",
    ("evr", "star"): "5",
    ("fr", "pick"): "1",
    ("fr", "cons"): "spoken",
    ("fr", "setcat"): "repair",
    ("fr", "conf"): "5",
    ("hz", "esd"): "urban",
}


def sample(prefix: str, action: str, wish_id: int, suggestion_id: int = 0) -> str:
    """A well-formed callback of this prefix and action about the wish."""
    cls = policy.CALLBACK_CLASSES[prefix]
    values: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        if name == "action":
            values[name] = "list" if action == "*" else action
        elif name == "wish_id":
            values[name] = wish_id
        elif name == "suggestion_id":
            values[name] = suggestion_id
        elif name == "arg":
            values[name] = ARGS.get((prefix, action), "")
        elif field.annotation is int:
            values[name] = 1
        elif field.annotation is bool:
            values[name] = False
        else:
            values[name] = "x"
    return cls(**values).pack()


class World:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.people: dict[str, Person] = {}
        self.wish_id = 0
        self.suggestion_id = 0

    async def build(self) -> None:
        stage = self.stage
        admin = stage.person(9001, "王主任")
        await admin.say("/start")
        self.people[CS] = admin
        staff_uid = await user_id(stage, admin)
        self.people[R] = stage.person(101, "张阿姨")
        ann = await resident(stage, self.people[R])
        self.people[R2] = stage.person(102, "钱大爷")
        await resident(stage, self.people[R2])
        self.people[OV] = stage.person(201, "李明")
        li = await volunteer(stage, self.people[OV])
        async with stage.app.sessions() as session:
            draft = await wishes.draft_wish(stage.app, session, ann, "楼道灯坏了，晚上看不见路")
            self.wish_id = (await wishes.file_wish(stage.app, session, ann, draft)).id
        async with stage.app.sessions() as session:
            await dispatch.approve(
                stage.app, session, staff_uid, self.wish_id, difficulty="normal", deadline=None
            )
        async with stage.app.sessions() as session:
            await claims.claim(stage.app, session, self.wish_id, li)
        self.people[NV] = stage.person(202, "周杰")
        await volunteer(stage, self.people[NV], grid="G02")
        self.people[G] = self.people[NV]
        self.people[XV] = stage.person(203, "孙丽")
        await volunteer(stage, self.people[XV], grid="G03")
        self.people[XS] = stage.person(301, "刘网格员")
        xs = await user_id(stage, self.people[XS])
        self.people[S] = stage.person(999, "路人")
        async with stage.app.sessions() as session:
            g01 = (await session.scalars(select(Grid).where(Grid.code == "G01"))).one()
            session.add(Staff(user_id=xs, scope="grid", grid_id=g01.id))
            wish = await session.get(Wish, self.wish_id)
            assert wish is not None
            wish.group_chat_id, wish.group_message_id = GROUP_CHAT, POST_ID
            await session.commit()
        async with stage.app.sessions() as session:
            filed = await suggestion_loop.file_suggestion(stage.app, session, ann, "建议多装路灯")
            self.suggestion_id = filed.id

    async def actor(self, persona: str) -> actors.Actor | None:
        person = self.people[persona]
        async with self.stage.app.sessions() as session:
            user, _ = await actors.touch_user(session, person.id, person.user.first_name, "zh-CN")
            return actors.actor_of(user)

    def _chat_and_markup(self, persona: str, data: str) -> tuple[Chat, InlineKeyboardMarkup]:
        person = self.people[persona]
        if persona == G:  # the group post carries only its Claim button
            chat = Chat(id=GROUP_CHAT, type="supergroup", title="第二网格联络群")
            claim = f"t:claim:{self.wish_id}:"
        else:
            chat = Chat(id=person.id, type="private", first_name=person.user.first_name)
            claim = data
        button = InlineKeyboardButton(text="按钮", callback_data=claim)
        return chat, InlineKeyboardMarkup(inline_keyboard=[[button]])

    def _user(self, persona: str) -> TgUser:
        person = self.people[persona]
        return TgUser(id=person.id, is_bot=False, first_name=person.user.first_name)

    async def press(self, persona: str, data: str) -> bool:
        chat, markup = self._chat_and_markup(persona, data)
        message = Message(
            message_id=POST_ID,
            date=datetime(2026, 11, 20, tzinfo=UTC),
            chat=chat,
            reply_markup=markup,
        )
        query = CallbackQuery(
            id="1", from_user=self._user(persona), chat_instance="1", data=data, message=message
        )
        actor = await self.actor(persona)
        async with self.stage.app.sessions() as session:
            refusal = await authz.check_callback(query, actor, {"session": session})
        return refusal is None

    async def command(self, persona: str, name: str) -> bool:
        """True when the command reaches the handlers (refusals answer or stay silent)."""
        chat, _ = self._chat_and_markup(persona, "")
        text = f"/{name}"
        message = Message(
            message_id=1,
            date=datetime(2026, 11, 20, tzinfo=UTC),
            chat=chat,
            from_user=self._user(persona),
            text=text,
            entities=[MessageEntity(type="bot_command", offset=0, length=len(text))],
        )
        reached: list[bool] = []

        async def handler(event: Any, data: dict[str, Any]) -> None:
            reached.append(True)

        async def refuse(*_: Any) -> None:
            return None

        middleware = authz.CommandAuthz(self.stage.app)
        middleware._refuse = refuse  # type: ignore[method-assign,assignment]
        actor = await self.actor(persona)
        await middleware(handler, message, {"actor": actor, "bot": self.stage.runner.bot})  # type: ignore[union-attr]
        return bool(reached)


@pytest.fixture
async def world(stage: Stage) -> World:
    w = World(stage)
    await w.build()
    return w


async def test_every_button_as_every_persona(world: World) -> None:
    wrong: list[str] = []
    for (prefix, action), allowed in EXPECTED.items():
        data = sample(prefix, action, world.wish_id, world.suggestion_id)
        for persona in PERSONAS:
            got = await world.press(persona, data)
            if got != (persona in allowed):
                wrong.append(f"{data!r} as {persona}: {'allowed' if got else 'refused'}")
    assert wrong == []


async def test_every_command_as_every_persona(world: World) -> None:
    wrong: list[str] = []
    for name, allowed in EXPECTED_COMMANDS.items():
        for persona in PERSONAS:
            got = await world.command(persona, name)
            if got != (persona in allowed):
                wrong.append(f"/{name} as {persona}: {'allowed' if got else 'refused'}")
    assert wrong == []


async def test_forged_and_out_of_range_data_is_refused(world: World) -> None:
    w = world.wish_id
    forged = [
        "nosuch:1",
        "w:apx",
        f"w:apx:{w}:normal-99999999",
        f"w:view:{2**40}:",
        f"w:view:-{w}:",
        f"t:zap:{w}:",
        f"t:rate:{w}:9",
        f"st:why:{w}:extra",
        "sg:due:1:1-99",
        "evr:star:1:9",
        "lang",
        "",
    ]
    for data in forged:
        for persona in PERSONAS:
            assert not await world.press(persona, data), (data, persona)


def registered() -> tuple[set[str], set[str]]:
    """Callback prefixes and commands the routers in handlers/ actually handle."""
    prefixes: set[str] = set()
    commands: set[str] = set()
    for router in routers():
        for handler in router.callback_query.handlers:
            for f in handler.filters or []:
                if isinstance(f.callback, CallbackQueryFilter):
                    prefixes.add(f.callback.callback_data.__prefix__)
        for handler in router.message.handlers:
            for f in handler.filters or []:
                if isinstance(f.callback, CommandStart):
                    commands.add("start")
                elif isinstance(f.callback, Command):
                    commands.update(str(c) for c in f.callback.commands)
    return prefixes, commands


def packed_actions() -> set[tuple[str, str]]:
    """Every (prefix, action) the code packs into a button, found in the source."""
    by_class = {cls.__name__: p for p, cls in policy.CALLBACK_CLASSES.items()}
    found: set[tuple[str, str]] = set()
    pattern = re.compile(r"\b([A-Za-z]+Cb)\(\s*action=\"([a-z]+)\"")
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for cls_name, action in pattern.findall(path.read_text(encoding="utf-8")):
                assert cls_name in by_class, f"{cls_name} in {path} has no policy prefix"
                found.add((by_class[cls_name], action))
    return found


def test_every_button_and_command_has_a_rule() -> None:
    from handlers.staff.wishes import STAFF_ACTIONS
    from handlers.volunteer.tasks import VOLUNTEER_ACTIONS

    prefixes, commands = registered()
    assert prefixes and commands
    assert prefixes <= set(policy.CALLBACK_CLASSES), prefixes - set(policy.CALLBACK_CLASSES)
    for prefix in prefixes:
        assert any(p == prefix for p, _ in policy.CALLBACKS), f"no rule for {prefix!r}"
    actions = packed_actions() | {("w", a) for a in STAFF_ACTIONS}
    actions |= {("t", a) for a in VOLUNTEER_ACTIONS}
    missing = sorted(a for a in actions if policy.callback_rule(*a) is None)
    assert missing == []
    assert commands - set(policy.COMMANDS) == set()
    # The hand-written matrix covers every rule, so a new rule needs a row here too.
    assert set(policy.CALLBACKS) == set(EXPECTED)
    assert set(policy.COMMANDS) == set(EXPECTED_COMMANDS)


async def test_refusals_are_kind_and_in_the_persons_language(stage: Stage) -> None:
    zh, en = Translator("zh-CN"), Translator("en")
    ann = stage.person(101, "张阿姨")
    await resident(stage, ann)
    assert (await ann.say("/queue", expect=None)).text == zh("errors.staff_only")
    assert (await ann.say("/linkgroup G02", expect=None)).text == zh("authz.group_only")
    assert (await ann.say("/mytasks", expect=None)).text == zh("authz.volunteers_only")
    bob = stage.person(102, "Bob", lang="en")
    target = await bob.say("/help", expect=None)
    assert (await bob.say("/mywishes", expect=None)).text == en("authz.residents_only")
    query = await stage.fake.forge_press(bob.user, bob.id, target.message_id, "w:view:1:")
    await stage.fake.wait_for(lambda: stage.fake.answer_for(query) is not None)
    popup = stage.fake.answer_for(query)
    assert popup is not None and popup.show_alert and popup.text == en("authz.denied")
