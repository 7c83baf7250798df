"""Configuration: one TOML file plus environment overrides.

Priority (highest first): environment (``WISHBOT__SECTION__KEY``), the TOML file, built-in
defaults. A bad value stops the start with :class:`ConfigError`, one line naming the key.
"""

from __future__ import annotations

import csv
import os
import tomllib
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config_running import DeliveryConfig as DeliveryConfig
from bot.config_running import LoggingConfig as LoggingConfig
from bot.config_running import MetricsConfig as MetricsConfig
from bot.config_running import RedisConfig as RedisConfig
from bot.config_running import WebConfig as WebConfig
from bot.config_telegram import Section as _Section
from bot.config_telegram import TelegramConfig as TelegramConfig
from bot.config_telegram import WebhookConfig as WebhookConfig

DEFAULTS_DIR = Path(__file__).parent / "defaults"
DEFAULT_CONFIG_PATH = Path("config.toml")
LANGUAGES = ("zh-CN", "en")
DIFFICULTIES = ("easy", "normal", "hard")
# Connections beyond one per concurrent update: delivery engine loops, clock, stray reads.
POOL_RESERVE = 4


class ConfigError(Exception):
    """A configuration problem, worded for the person running the bot."""


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///wishbot.db"
    echo: bool = False
    busy_timeout_ms: int = Field(default=30_000, ge=0)
    # SQLite: run statements on the event loop's thread (a lock is still waited for off it);
    # false hands every statement to a worker thread (aiosqlite), at several times the CPU.
    sqlite_inline: bool = True
    # Connections kept open, extra ones opened under load, and seconds to wait for one.
    pool_size: int = Field(default=20, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value


class GridConfig(_Section):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)
    community: str = ""
    neighbours: list[str] = Field(default_factory=list)


class DepartmentConfig(_Section):
    id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)


class CommunityConfig(_Section):
    name: str = "幸福社区"
    # The community office's phone, printed on posters for people who prefer to call.
    phone: str = ""
    timezone: str = "Asia/Shanghai"
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    grids: list[GridConfig] = Field(default_factory=list)
    grids_csv: Path | None = None
    departments: list[DepartmentConfig] = Field(
        default_factory=lambda: [
            DepartmentConfig(id="housing", name="住建局"),
            DepartmentConfig(id="urban", name="城管局"),
            DepartmentConfig(id="health", name="卫健委"),
            DepartmentConfig(id="civil", name="民政局"),
            DepartmentConfig(id="police", name="派出所"),
        ]
    )
    # Filing on behalf (代办, /forresident): grid workers and staff always may; volunteers only
    # when this is true.
    volunteers_may_file_for_residents: bool = False

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _load_grids(self) -> CommunityConfig:
        if self.grids_csv is not None:
            self.grids = self.grids + _grids_from_csv(self.grids_csv)
        if not self.grids:
            self.grids = [
                GridConfig(code="G01", name="第一网格（1-6栋）"),
                GridConfig(code="G02", name="第二网格（7-12栋）"),
                GridConfig(code="G03", name="第三网格（13-18栋）"),
            ]
        codes = [g.code for g in self.grids]
        if len(codes) != len(set(codes)):
            raise ValueError("grid codes must be unique")
        for grid in self.grids:
            if not grid.community:
                grid.community = self.name
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _grids_from_csv(path: Path) -> list[GridConfig]:
    """Read ``code,name[,community]`` rows; a header row starting with ``code`` is skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh) if r and r[0].strip() and r[0].strip() != "code"]
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    grids = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise ValueError(f"{path} row {number}: expected code,name[,community]")
        grids.append(
            GridConfig(
                code=row[0].strip(),
                name=row[1].strip(),
                community=row[2].strip() if len(row) > 2 else "",
            )
        )
    return grids


class StaffConfig(_Section):
    admins: list[int] = Field(default_factory=list)
    invite_ttl_hours: int = Field(default=72, gt=0)


class CategoryConfig(_Section):
    """One category; every field but ``id`` has a default from bot/defaults/categories.toml."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,23}$")
    name_zh: str
    name_en: str
    keywords_zh: list[str] = Field(default_factory=list)
    keywords_en: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "normal", "hard"] = "normal"
    review: Literal["auto", "staff"] = "staff"
    verify: bool = True
    points: dict[Literal["easy", "normal", "hard"], int] = Field(
        default_factory=lambda: {"easy": 5, "normal": 10, "hard": 20}  # type: ignore[arg-type]
    )

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh-CN" else self.name_en


class CategoriesConfig(_Section):
    confidence_threshold: float = Field(default=0.45, ge=0, le=1)
    # Per-id partial overrides of the defaults, or whole new categories.
    items: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @cached_property
    def resolved(self) -> list[CategoryConfig]:
        return _merge_categories(self.items)

    @model_validator(mode="after")
    def _check(self) -> CategoriesConfig:
        _ = self.resolved  # raises on a bad override
        return self

    def get(self, category_id: str) -> CategoryConfig | None:
        return next((c for c in self.resolved if c.id == category_id), None)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.resolved]


def _merge_categories(items: dict[str, dict[str, Any]]) -> list[CategoryConfig]:
    with (DEFAULTS_DIR / "categories.toml").open("rb") as fh:
        defaults: list[dict[str, Any]] = tomllib.load(fh)["category"]
    merged: dict[str, dict[str, Any]] = {c["id"]: dict(c) for c in defaults}
    for cid, patch in items.items():
        merged.setdefault(cid, {"id": cid}).update(patch)
    # "other" stays last: it is the classifier's fallback and the end of every list.
    order = [cid for cid in merged if cid != "other"] + ["other"]
    try:
        return [CategoryConfig.model_validate(merged[cid]) for cid in order if cid in merged]
    except ValidationError as exc:
        raise ValueError(_one_line(exc, prefix="categories.items")) from exc


class PointsConfig(_Section):
    bonus_urgent: int = Field(default=2, ge=0)
    bonus_five_star: int = Field(default=2, ge=0)
    bonus_first_of_year: int = Field(default=5, ge=0)
    cap_per_day: int = Field(default=60, ge=0)
    cap_per_week: int = Field(default=200, ge=0)
    expiry: Literal["never", "end_of_next_year"] = "never"
    declaration_max_points: int = Field(default=20, ge=0)
    # 召集人汇总: declarations go to the convenor of the member's grid or home organisation,
    # who forwards them in a batch; off: staff review each one directly (one step).
    declarations_via_convenor: bool = False


class SlotConfig(_Section):
    id: str
    name_zh: str
    name_en: str
    days: list[int]
    start: time
    end: time

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 0 or d > 6 for d in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return value

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh-CN" else self.name_en


def _default_slots() -> list[SlotConfig]:
    parts = [
        ("morning", "上午", "morning", time(8), time(12)),
        ("afternoon", "下午", "afternoon", time(13), time(18)),
        ("evening", "晚上", "evening", time(18), time(21)),
    ]
    days = [
        ("weekday", "工作日", "Weekday", [0, 1, 2, 3, 4]),
        ("sat", "周六", "Saturday", [5]),
        ("sun", "周日", "Sunday", [6]),
    ]
    return [
        SlotConfig(
            id=f"{d_id}_{p_id}",
            name_zh=f"{d_zh}{p_zh}",
            name_en=f"{d_en} {p_en}",
            days=d_days,
            start=start,
            end=end,
        )
        for d_id, d_zh, d_en, d_days in days
        for p_id, p_zh, p_en, start, end in parts
    ]


class VolunteersConfig(_Section):
    slots: list[SlotConfig] = Field(default_factory=_default_slots)
    default_max_active_tasks: int = Field(default=2, ge=1, le=20)


class WishesConfig(_Section):
    min_length: int = Field(default=5, ge=1)
    max_length: int = Field(default=1000, ge=10, le=3500)
    max_details: int = Field(default=5, ge=0, le=20)
    max_open_per_resident: int = Field(default=5, ge=1)
    max_per_day: int = Field(default=5, ge=1)
    duplicate_window_hours: int = Field(default=24, ge=0)
    duplicate_similarity: float = Field(default=0.85, ge=0, le=1)
    # Another resident's open wish of the same category in the same grid, filed in the last N
    # hours and this similar (0..1, matching.duplicates), is shown to staff as a likely duplicate.
    neighbour_window_hours: int = Field(default=72, ge=0)
    neighbour_similarity: float = Field(default=0.55, ge=0, le=1)


class MatchingWeights(_Section):
    skill: float = 3.0
    specialty: float = 1.5
    availability: float = 2.0
    nearness: float = 2.0
    load: float = 1.0
    fairness: float = 1.0
    reliability: float = 1.5
    duty: float = 1.0
    newcomer: float = 0.5
    same_building: float = 1.0
    same_grid: float = 0.8
    same_community: float = 0.5
    elsewhere: float = 0.1


class MatchingConfig(_Section):
    offer_k: int = Field(default=3, ge=1, le=50)
    # Minutes an offer round waits for a claim before the next round, by urgency.
    round_minutes: int = Field(default=240, ge=1)
    round_minutes_urgent: int = Field(default=30, ge=1)
    # Rounds: 1..grid_rounds the wish's grid, then neighbouring grids, then the community;
    # after that staff are alerted (吹哨).
    grid_rounds: int = Field(default=2, ge=1)
    weights: MatchingWeights = Field(default_factory=MatchingWeights)


class TasksConfig(_Section):
    # Reminders to the volunteer before the agreed time, in minutes.
    reminder_minutes: list[int] = Field(default_factory=lambda: [1440, 60])
    # Nudge the volunteer when a claimed task has no agreed time after this many hours.
    nudge_hours: int = Field(default=24, ge=1)
    # Alert staff when a task is not done this many hours after the agreed time (or deadline).
    overdue_hours: int = Field(default=24, ge=1)
    # Remind the resident to confirm after this many hours; staff decide after this many days.
    confirm_reminder_hours: int = Field(default=24, ge=1)
    confirm_timeout_days: int = Field(default=3, ge=1)
    # 吹哨: remind the staff member who escalated this many hours before the department's
    # deadline; at the deadline, if still unanswered, alert them and the grid's reviewers.
    escalation_reminder_hours: int = Field(default=24, ge=1)


class ReportsConfig(_Section):
    # 每年一奖: how many per community make the annual awards list, and the least services.
    awards_top_n: int = Field(default=10, ge=1)
    awards_min_services: int = Field(default=3, ge=0)
    # The month members with no service this year are reminded of the duty rule (1-12).
    duty_reminder_month: int = Field(default=10, ge=1, le=12)


class EventsConfig(_Section):
    checkin_code_minutes: int = Field(default=5, ge=1)  # how long one check-in code works
    checkin_opens_minutes: int = Field(default=30, ge=0)  # check-in opens this long before start
    max_slots: int = Field(default=500, ge=1)  # most places one event may offer
    max_points: int = Field(default=100, ge=0)  # most attendance points one event may give


class PatrolsConfig(_Section):
    """治安巡查: check-in by location, points for patrol time, the hazard kinds."""

    checkin_radius_m: int = Field(default=300, ge=10, le=5000)  # from the route's point
    checkin_opens_minutes: int = Field(default=30, ge=0)  # check-in opens this long before
    checkin_code_minutes: int = Field(default=5, ge=1)  # how long one check-in code works
    points_per_hour: int = Field(default=2, ge=0)  # ledger points per hour patrolled
    max_points_per_shift: int = Field(default=10, ge=0)
    max_capacity: int = Field(default=50, ge=1)
    hazard_kinds: list[str] = Field(
        default_factory=lambda: ["fire_exit", "ebike_indoor", "railing", "wiring", "other"]
    )


class PostsConfig(_Section):
    """Standing posts (楼道长, 党员先锋岗, 责任区): terms and the monthly check-in."""

    term_months: int = Field(default=12, ge=1, le=60)  # a claimed term, unless the post says
    checkin_points: int = Field(default=2, ge=0)  # per month checked in, once
    report_max: int = Field(default=300, ge=20)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WISHBOT__", env_nested_delimiter="__", extra="forbid"
    )

    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    community: CommunityConfig = Field(default_factory=CommunityConfig)
    staff: StaffConfig = Field(default_factory=StaffConfig)
    categories: CategoriesConfig = Field(default_factory=CategoriesConfig)
    points: PointsConfig = Field(default_factory=PointsConfig)
    volunteers: VolunteersConfig = Field(default_factory=VolunteersConfig)
    wishes: WishesConfig = Field(default_factory=WishesConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    events: EventsConfig = Field(default_factory=EventsConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    patrols: PatrolsConfig = Field(default_factory=PatrolsConfig)
    posts: PostsConfig = Field(default_factory=PostsConfig)
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment beats the file (passed as init kwargs): that is what operators expect.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _pool_fits_concurrency(self) -> Settings:
        # Each update in progress holds exactly one connection; the delivery engine, the
        # clock and a conversation-state read outside an update need a few more. A pool
        # smaller than that would make updates wait on each other until pool_timeout.
        have = self.database.pool_size + self.database.max_overflow
        need = self.telegram.max_concurrent_updates + POOL_RESERVE
        if have < need:
            raise ValueError(
                f"database.pool_size + database.max_overflow is {have}, but "
                f"telegram.max_concurrent_updates = {self.telegram.max_concurrent_updates} "
                f"needs at least {need} ({POOL_RESERVE} more for background work): "
                "raise the pool or lower the concurrency"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return self.community.tz


def _one_line(exc: ValidationError, prefix: str = "") -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"] if p not in ("function-after",))
    key = f"{prefix}.{key}" if prefix and key else (prefix or key)
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}"


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load the config file (or built-in defaults when absent) with environment overrides."""
    explicit = path is not None or "WISHBOT_CONFIG" in os.environ
    config_path = Path(path or os.environ.get("WISHBOT_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            with config_path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML ({exc})") from exc
    elif explicit:
        raise ConfigError(f"{config_path}: no such file")
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{config_path}: {_one_line(exc)}") from exc
