"""SQL parameter logging stays off at every log level (issue 9, part 8)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot.db.base import Base
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import User

SECRET = "13912345678张阿姨"


async def test_parameters_never_reach_logs_or_errors(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url, echo=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        caplog.set_level(logging.DEBUG, logger="sqlalchemy")
        sessions = make_session_factory(engine)
        async with sessions() as session:
            await session.execute(insert(User).values(telegram_id=42, display_name=SECRET))
            with pytest.raises(IntegrityError) as refused:  # telegram_id is unique
                await session.execute(insert(User).values(telegram_id=42, display_name=SECRET))
        assert "INSERT INTO users" in caplog.text  # SQL is logged...
        assert SECRET not in caplog.text  # ...its values are not
        assert SECRET not in str(refused.value)
    finally:
        await engine.dispose()
