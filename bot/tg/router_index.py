"""The feature routers behind one index that hands an event only to routers that could take it.

aiogram offers every message and every button press to each router in turn: about forty of
them, each wrapping its middlewares and trying its handlers' filters until one matches. For a
resident's plain text or a Claim press, that walk was a tenth of the update's CPU. Most
routers can say up front what they could possibly take, from the filters their handlers
already declare:

* a button: the callback-data prefixes of its handlers (``t`` for ``TaskCb``...);
* a message: commands (its handlers with a ``Command`` filter), and the conversation states
  its other handlers wait in.

A router is skipped for an event it could not take; one with a handler that declares neither
(the fallback, a free-text handler without a state) is always asked, so the order and the
first-match rule are exactly aiogram's. Only the walk is shorter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

ANY_STATE = "*"


@dataclass(frozen=True, slots=True)
class MessageGate:
    command_prefixes: str  # a router with command handlers takes text starting with these
    states: frozenset[str | None]  # and messages in these conversation states

    def admits(self, message: Message, raw_state: str | None) -> bool:
        if raw_state in self.states:
            return True
        if not self.command_prefixes:
            return False
        text = message.text or message.caption or ""
        return bool(text) and text[0] in self.command_prefixes


@dataclass(frozen=True, slots=True)
class ButtonGate:
    prefixes: frozenset[str]  # callback-data prefixes ("t" of "t:claim:12:")

    def admits(self, query: CallbackQuery) -> bool:
        return (query.data or "").partition(":")[0] in self.prefixes


def _states_of(flt: Any) -> set[str | None] | None:
    """The states a state filter accepts, or None when it is not one (or accepts any)."""
    if isinstance(flt, State):
        return None if flt.state == ANY_STATE else {flt.state}
    if isinstance(flt, StateFilter):
        states: set[str | None] = set()
        for s in flt.states:
            group = type(s) if isinstance(s, StatesGroup) else s
            if isinstance(group, type) and issubclass(group, StatesGroup):
                states.update(member.state for member in group.__all_states__)
                continue
            name = s.state if isinstance(s, State) else s
            if name == ANY_STATE or not (name is None or isinstance(name, str)):
                return None
            states.add(name)
        return states
    return None


def _message_gate(handlers: Iterable[HandlerObject]) -> MessageGate | None:
    prefixes: set[str] = set()
    states: set[str | None] = set()
    for handler in handlers:
        callbacks = [f.callback for f in handler.filters or ()]
        commands = [c for c in callbacks if isinstance(c, Command)]
        if commands:
            prefixes.update(ch for c in commands for ch in c.prefix)
            continue
        found = next((s for c in callbacks if (s := _states_of(c)) is not None), None)
        if found is None:
            return None  # takes messages we cannot name: always asked
        states |= found
    return MessageGate("".join(sorted(prefixes)), frozenset(states))


def _button_gate(handlers: Iterable[HandlerObject]) -> ButtonGate | None:
    prefixes: set[str] = set()
    for handler in handlers:
        data = [
            f.callback.callback_data
            for f in handler.filters or ()
            if isinstance(f.callback, CallbackQueryFilter)
        ]
        if not data or any(cls.__separator__ != ":" for cls in data):
            return None
        prefixes.update(cls.__prefix__ for cls in data)
    return ButtonGate(frozenset(prefixes))


def _gates(router: Router) -> dict[str, MessageGate | ButtonGate | None]:
    """Per update type, the gate of the router and everything included in it. (A router's
    own filters only narrow it further; one with middlewares of its own, which may act on
    every event, is always asked.)"""
    tail = list(router.chain_tail)
    gates: dict[str, MessageGate | ButtonGate | None] = {}
    for name, gate_of in (("message", _message_gate), ("callback_query", _button_gate)):
        observers = [r.observers[name] for r in tail]
        if any(len(o.outer_middleware) or len(o.middleware) for o in observers):
            continue
        gates[name] = gate_of(h for o in observers for h in o.handlers)
    return gates


class RouterIndex(Router):
    """Includes ``routers`` in order; passes each message and press only to those whose gate
    admits it (every other update type: to all, as aiogram does)."""

    def __init__(self, routers: Iterable[Router]) -> None:
        super().__init__(name="index")
        self._plans: list[tuple[Router, dict[str, MessageGate | ButtonGate | None]]] = []
        for router in routers:
            self.include_router(router)
            self._plans.append((router, _gates(router)))

    def candidates(
        self, update_type: str, event: TelegramObject, raw_state: str | None
    ) -> list[Router]:
        chosen = []
        for router, gates in self._plans:
            gate = gates.get(update_type)
            if gate is None:
                chosen.append(router)
            elif isinstance(gate, MessageGate):
                if isinstance(event, Message) and gate.admits(event, raw_state):
                    chosen.append(router)
            elif isinstance(event, CallbackQuery) and gate.admits(event):
                chosen.append(router)
        return chosen

    async def _propagate_event(
        self,
        observer: Any,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        # The index has no handlers of its own: straight to the routers that could match.
        response = UNHANDLED
        for router in self.candidates(update_type, event, kwargs.get("raw_state")):
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response
