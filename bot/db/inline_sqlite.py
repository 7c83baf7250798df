"""aiosqlite without its worker thread: statements run on the event loop's thread.

Through aiosqlite, every statement is four hand-offs to a worker thread and back (cursor,
execute, fetch, close), each a futex wake-up, a write to the loop's self-pipe and a GIL
hand-over: about 0.8 ms of CPU for a one-row SELECT on this kind of machine, against 0.1 ms
for the same SQLAlchemy call run directly. An update makes five to ten statements, so the
hand-offs were most of what an update cost. Here a statement runs where it is called.

What must not block the loop is waiting for a lock held by another connection. A
connection's own busy timeout is therefore 0: a statement that finds the database locked
(another process writing, or a deferred transaction upgrading while another connection of
ours writes) fails at once without effect, and runs again on a small thread pool with the
configured busy timeout, so the wait happens off the loop. Writers of this process rarely
get there: they take turns before BEGIN IMMEDIATE (:mod:`bot.db.write_turns`).

A long statement still blocks the loop for its length (a report over a district's history on
SQLite, say); the scale-out database, PostgreSQL, never runs here.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import aiosqlite

# Calls that may meet a lock and are safe to run again after SQLITE_BUSY (a statement that
# reports busy has had no effect); a fetch that failed half-way is not repeated.
_RETRIED = frozenset({"execute", "executemany", "executescript", "commit"})
SLICE_MS = 100
_waiters = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sqlite-wait")


def _locked(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


class _InlineQueue:
    """Stands in for the worker thread's queue (SQLAlchemy puts work on it directly)."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting side, as the thread would
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        iter_chunk_size: int,
        *,
        busy_timeout_ms: int = 0,
    ) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _InlineQueue()  # type: ignore[assignment]
        self.busy_timeout_ms = busy_timeout_ms
        self.waits = 0  # statements that had to wait off the loop (tests read this)

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect_inline().__await__()

    async def _connect_inline(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or getattr(fn, "__name__", "") not in _RETRIED:
                raise
        return await self._wait_off_loop(partial(fn, *args, **kwargs))

    async def _wait_off_loop(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` again on a waiter thread, where SQLite's busy handler may sleep, in
        slices of at most ``SLICE_MS`` so a cancelled wait ends soon; up to the busy timeout."""
        connection = self._connection
        assert connection is not None
        self.waits += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.busy_timeout_ms / 1000

        def attempt(slice_ms: int) -> Any:
            connection.execute(f"PRAGMA busy_timeout={slice_ms}")
            try:
                return call()
            finally:
                connection.execute("PRAGMA busy_timeout=0")

        while True:
            slice_ms = max(0, min(SLICE_MS, int((deadline - loop.time()) * 1000)))
            job = loop.run_in_executor(_waiters, attempt, slice_ms)
            try:
                return await asyncio.shield(job)
            except asyncio.CancelledError:
                # Nobody may use the connection while the thread still has it.
                await asyncio.gather(job, return_exceptions=True)
                raise
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or loop.time() >= deadline:
                    raise

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def connect(database: str, **kwargs: Any) -> InlineConnection:
    """Drop-in for ``aiosqlite.connect`` (SQLAlchemy's ``async_creator_fn``); ``timeout`` (s)
    is how long a statement may wait for a lock, off the loop."""
    kwargs.pop("iter_chunk_size", None)
    wait_ms = int(float(kwargs.pop("timeout", 5.0)) * 1000)
    kwargs["check_same_thread"] = False
    connector = partial(sqlite3.connect, database, timeout=0, **kwargs)
    return InlineConnection(connector, 64, busy_timeout_ms=wait_ms)
