"""The overview's queries can use the indexes of migration 0014 on PostgreSQL (with scans of
the table itself switched off, the plan names the index or the query could not use it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.db.engine import make_engine
from bot.db.migrate import upgrade_async
from bot.db.models import Wish
from bot.services.intake.wish_states import OPEN
from bot.services.reports.outcomes import _approvals
from bot.services.reports.window_sums import moments_query

pytestmark = pytest.mark.postgres


async def _plan(conn, query) -> str:  # type: ignore[no-untyped-def]
    compiled = query.compile(conn.engine, compile_kwargs={"literal_binds": True})
    return "\n".join((await conn.exec_driver_sql(f"EXPLAIN {compiled}")).scalars().all())


async def test_first_approvals_and_open_wishes_per_grid_come_from_their_indexes(
    postgres_url: str,
) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            await conn.exec_driver_sql("SET enable_bitmapscan = off")
            start = datetime.now(UTC) - timedelta(days=30)
            approvals = select(_approvals(start))
            assert "ix_wish_events_approved_at" in await _plan(conn, approvals)
            open_by_grid = (
                select(Wish.grid_id, func.count())
                .where(Wish.status.in_(sorted(OPEN)))
                .group_by(Wish.grid_id)
            )
            assert "ix_wishes_status_grid_deadline" in await _plan(conn, open_by_grid)
    finally:
        await engine.dispose()


async def test_the_window_sums_read_the_covering_index_of_the_filing_time(
    postgres_url: str,
) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            await conn.exec_driver_sql("SET enable_bitmapscan = off")
            end = datetime.now(UTC)
            start = end - timedelta(days=30)
            plan = await _plan(conn, moments_query(start, end, None, postgres=True))
            assert "Index Only Scan using ix_wishes_created_cover" in plan
            per_grid = select(Wish.grid_id, func.count(), func.sum(Wish.rating)).where(
                Wish.created_at >= start, Wish.created_at < end
            )
            plan = await _plan(conn, per_grid.group_by(Wish.grid_id))
            assert "Index Only Scan using ix_wishes_created_cover" in plan
    finally:
        await engine.dispose()
