"""`wishbot bench dashboard`: seed a district (wishes, volunteers, history) and time the web
overview and the wish search through the real web app over HTTP, as a community-wide staff
member. Reports p50/p95 in ms (the overview uncached, and the big screen's 30 s cache), and
which indexes the query plans use on PostgreSQL. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, text

from bot.config import Settings
from bot.db.engine import make_engine, make_session_factory
from bot.db.migrate import upgrade_async
from bot.db.models import Grid, Staff, User, Volunteer, Wish, WishEvent
from bot.services import web_access
from bot.services.context import AppContext
from bot.services.intake.wish_states import OPEN
from bot.services.notices import RecordingNotifier
from bot.web.app import freeze_startup_heap, make_web_app

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CATEGORIES = ("repair", "errand", "eldercare", "health", "digital", "environment", "legal")
TEXTS = ("厨房水管漏水了", "帮老人买菜", "电脑连不上网", "楼道灯坏了", "陪老人看病", "咨询法律问题")
STATUSES = (
    ("verified", 30),
    ("closed", 15),
    ("confirmed", 10),
    ("done", 5),
    ("claimed", 6),
    ("offered", 6),
    ("approved", 4),
    ("submitted", 6),
    ("rejected", 5),
    ("expired", 8),
    ("cancelled", 5),
)
BATCH = 5000


async def _create_pg() -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg

    name = f"dashbench_{uuid.uuid4().hex[:8]}"  # not wishbot_*: test clean-ups drop those
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.close()

    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", drop


async def _seed(app: AppContext, n_wishes: int, n_volunteers: int, seed: int) -> int:
    rng = random.Random(seed)
    now = app.now()
    n_grids = max(3, min(650, n_volunteers // 50))
    engine_sessions = app.sessions
    async with engine_sessions() as s:
        postgres = app.settings.database.url.startswith("postgresql")

        async def bulk(model: Any, rows: list[dict[str, Any]]) -> None:
            if postgres:  # COPY: seconds instead of minutes for 300,000 rows
                columns = list(rows[0])
                raw = await (await s.connection()).get_raw_connection()
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    model.__tablename__,
                    records=[
                        tuple(json.dumps(r[c]) if isinstance(r[c], list) else r[c] for c in columns)
                        for r in rows
                    ],
                    columns=columns,
                )
                return
            for i in range(0, len(rows), BATCH):
                await s.execute(insert(model), rows[i : i + BATCH])

        await bulk(
            Grid,
            [
                {
                    "id": g + 1,
                    "code": f"G{g + 1:03d}",
                    "name": f"第{g + 1}网格",
                    "community": "区",
                    "neighbours": [],
                    "active": True,
                }
                for g in range(n_grids)
            ],
        )
        n_residents = max(1, n_wishes // 3)
        users = [
            {
                "id": i + 1,
                "telegram_id": 10_000 + i,
                "display_name": f"u{i}",
                "language": "zh-CN",
                "is_blocked": False,
                "created_at": now,
            }
            for i in range(1 + n_volunteers + n_residents)
        ]
        await bulk(User, users)
        await bulk(
            Staff, [{"user_id": 1, "scope": "community", "is_admin": True, "created_at": now}]
        )
        await bulk(
            Volunteer,
            [
                {
                    "user_id": 2 + i,
                    "name": f"党员{i}",
                    "grid_id": 1 + i % n_grids,
                    "unit": "单位",
                    "branch": "支部",
                    "occupation": "职员",
                    "status": "approved",
                    "skills": [],
                    "specialties": "",
                    "availability": [],
                    "max_active_tasks": 2,
                    "public_board": True,
                    "created_at": now,
                }
                for i in range(n_volunteers)
            ],
        )
        weights = [w for _, w in STATUSES]
        names = [n for n, _ in STATUSES]
        wishes, events = [], []
        first_resident = 2 + n_volunteers
        for i in range(n_wishes):
            created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            status = rng.choices(names, weights)[0]
            approved = status not in ("submitted", "rejected")
            claimed = status in ("verified", "closed", "confirmed", "done", "claimed")
            done = status in ("verified", "closed", "confirmed", "done")
            approved_at = created + timedelta(minutes=rng.uniform(5, 600))
            claimed_at = approved_at + timedelta(minutes=rng.expovariate(1 / 300))
            done_at = claimed_at + timedelta(hours=rng.expovariate(1 / 30))
            wishes.append(
                {
                    "id": i + 1,
                    "resident_id": first_resident + i % n_residents,
                    "grid_id": 1 + rng.randrange(n_grids),
                    "text": rng.choice(TEXTS) + f" {i}",
                    "category": rng.choice(CATEGORIES),
                    "status": status,
                    "difficulty": "normal",
                    "details": [],
                    "urgent": False,
                    "confidence": 0.9,
                    "offer_round": 1,
                    "created_at": created,
                    "updated_at": created,
                    "deadline": created + timedelta(days=7) if approved else None,
                    "volunteer_id": 2 + rng.randrange(n_volunteers) if claimed else None,
                    "claimed_at": claimed_at if claimed else None,
                    "done_at": done_at if done else None,
                    "rating": rng.choice((3, 4, 5, 5, None)) if done else None,
                }
            )
            events.append(
                {"wish_id": i + 1, "from_status": None, "to_status": "submitted", "at": created}
            )
            if approved:
                events.append(
                    {
                        "wish_id": i + 1,
                        "from_status": "submitted",
                        "to_status": "approved",
                        "at": approved_at,
                    }
                )
        await bulk(Wish, wishes)
        await bulk(WishEvent, events)
        await s.commit()
        if app.settings.database.url.startswith("postgresql"):
            for table in ("users", "grids", "wishes", "wish_events"):
                await s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            await s.commit()
            # VACUUM as well as ANALYZE: a live database has its visibility map from autovacuum,
            # which index-only scans need; a table just filled by COPY has none yet.
            await _vacuum_analyze(app.settings.database.url)
    return n_grids


async def _vacuum_analyze(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95 + 0.999) - 1)]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


async def _time(client: TestClient, paths: list[str], runs: int) -> dict[str, float]:  # type: ignore[type-arg]
    samples = []
    for i in range(runs):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        response = await client.get(path)
        await response.read()
        samples.append(time.perf_counter() - start)
        assert response.status == 200, (path, response.status)
    return _ms(samples)


async def _plans(app: AppContext) -> dict[str, list[str]]:
    """Index names the PostgreSQL plans of the main queries use."""
    from bot.services.reports.outcomes import _records_query
    from bot.services.reports.window_sums import moments_query

    now = app.now()
    month = now - timedelta(days=30)
    queries = {
        "overview_records": _records_query(month, now, None),
        "overview_records_grid": _records_query(month, now, [1]),
        "overview_window_moments": moments_query(month, now, None, postgres=True),
    }
    found: dict[str, list[str]] = {}
    async with app.sessions() as s:
        conn = await s.connection()
        for name, query in queries.items():
            compiled = query.compile(conn.engine, compile_kwargs={"literal_binds": True})
            plan = (await conn.exec_driver_sql(f"EXPLAIN {compiled}")).scalars().all()
            found[name] = sorted({w for line in plan for w in line.split() if w.startswith("ix_")})
        open_states = ", ".join(f"'{state}'" for state in sorted(OPEN))
        for name, sql in {
            "search_grid_status": (
                "SELECT count(*) FROM wishes WHERE grid_id = 1 AND status = 'verified'"
            ),
            "overview_open_by_grid": (
                "SELECT grid_id, count(*) FROM wishes "
                f"WHERE status IN ({open_states}) GROUP BY grid_id"
            ),
        }.items():
            plan = (await conn.exec_driver_sql(f"EXPLAIN {sql}")).scalars().all()
            found[name] = sorted({w for line in plan for w in line.split() if w.startswith("ix_")})
    return found


async def run_dashboard_bench(
    n_wishes: int, n_volunteers: int, database: str, *, runs: int = 30, seed: int = 1
) -> dict[str, object]:
    drop: Callable[[], Awaitable[None]] | None = None
    if database == "postgresql":
        url, drop = await _create_pg()
    elif database == "sqlite":
        import tempfile

        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        url = database
    try:
        await upgrade_async(url)
        data: dict[str, Any] = {
            "database": {"url": url},
            "web": {"host": "127.0.0.1", "secret": "bench"},
        }
        settings = Settings(**data)
        engine = make_engine(url)
        fixed_now = datetime.now(UTC)
        app = AppContext(
            settings, make_session_factory(engine), RecordingNotifier(), clock=lambda: fixed_now
        )
        started = time.perf_counter()
        n_grids = await _seed(app, n_wishes, n_volunteers, seed)
        seed_s = time.perf_counter() - started
        client = TestClient(TestServer(make_web_app(app)))
        await client.start_server()
        freeze_startup_heap()  # as WebServer.start does in the serving process
        try:
            async with app.sessions() as s:
                link = await web_access.issue_login_link(app, s, 1)
            await client.post(link.removeprefix(settings.web.base_url))
            result: dict[str, object] = {
                "database": url.split(":")[0],
                "wishes": n_wishes,
                "volunteers": n_volunteers,
                "grids": n_grids,
                "seed_s": round(seed_s, 1),
                "runs": runs,
            }
            for key, paths in {
                "overview_30d": ["/overview?window=30d"],
                "overview_7d": ["/overview?window=7d"],
                "overview_big_cached": ["/overview?window=30d&big=1"],
                "search_text": ["/wishes?q=漏水", "/wishes?q=买菜", "/wishes?q=电脑"],
                "search_filters": [
                    f"/wishes?grid={g}&status=verified&category=repair" for g in (1, 2, 3)
                ],
                "search_number": ["/wishes?q=%2312345", "/wishes?q=777"],
            }.items():
                await _time(client, paths, 2)  # warm up
                result[key] = await _time(client, paths, runs)
            if url.startswith("postgresql"):
                result["plans"] = await _plans(app)
            return result
        finally:
            gc.unfreeze()
            await client.close()
            await engine.dispose()
    finally:
        if drop is not None:
            await drop()
