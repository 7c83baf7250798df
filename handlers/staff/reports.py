"""Staff: quarterly evaluation (/evaluation), annual awards (/awards), monthly rates (/rates)
and the roster import (/roster, or a roster file sent with /roster as its caption)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from bot.services.context import AppContext
from bot.services.errors import UserError
from bot.services.people import roster
from bot.services.people.actors import ROLE_STAFF, Actor
from bot.services.people.roster import RosterCheck
from bot.services.people.roster_file import MAX_BYTES as ROSTER_MAX_BYTES
from bot.services.people.roster_rows import RowIssue
from bot.services.reports import evaluations, kinds, xlsx
from bot.services.reports import rates as rates_service
from bot.services.reports.evaluations import EvaluationRow
from bot.services.reports.rates import RateLine
from bot.tg import keyboards as kb
from bot.tg import monthly_cards  # noqa: F401  (registers the monthly figures message)
from bot.tg.callbacks_reports import RosterCb
from bot.tg.filters import HasRole, PrivateChat

log = logging.getLogger(__name__)

MESSAGE_MAX = 4000  # Telegram allows 4096 characters; keep room for the "more" line
LINES_PER_COMMUNITY = 10
ISSUES_SHOWN = 30
MAX_RETRY_AFTER = 30


class RosterUpload(StatesGroup):
    file = State()


class HasDocument(Filter):
    """Async (a magic F.document filter would run in aiogram's thread pool)."""

    async def __call__(self, message: Message, **_: Any) -> bool:
        return message.document is not None


class NotACommand(Filter):
    """Lets other features' commands through while a roster file is awaited."""

    async def __call__(self, message: Message, **_: Any) -> bool:
        return not (message.text or "").startswith("/")


def router() -> Router:
    r = Router(name="staff.reports")
    r.message.filter(PrivateChat(), HasRole(ROLE_STAFF))
    r.callback_query.filter(HasRole(ROLE_STAFF))
    r.message.register(evaluation, Command("evaluation"))
    r.message.register(awards, Command("awards"))
    r.message.register(rates, Command("rates"))
    r.message.register(roster_file, Command("roster"), HasDocument())
    r.message.register(roster_ask, Command("roster"))
    r.message.register(roster_file, RosterUpload.file, HasDocument())
    r.message.register(roster_not_a_file, RosterUpload.file, NotACommand())
    r.callback_query.register(roster_decided, RosterCb.filter())
    return r


# --- texts ----------------------------------------------------------------------------------


def _fit(lines: Sequence[str], t: Translator, limit: int = MESSAGE_MAX) -> str:
    """Join lines up to Telegram's limit; say how many were left out."""
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) + 1 > limit - 40:
            kept.append(t("reports.more", n=len(lines) - i))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _number(value: float | None, t: Translator, digits: int = 1) -> str:
    return t("reports.na") if value is None else f"{value:.{digits}f}"


def _percent(value: float | None, t: Translator) -> str:
    return t("reports.na") if value is None else t("reports.percent", value=f"{value * 100:.1f}")


def evaluation_line(t: Translator, row: EvaluationRow) -> str:
    response = (
        t("reports.na")
        if row.response_hours is None
        else t("reports.hours", hours=_number(row.response_hours, t))
    )
    return t(
        "reports.evaluation_line",
        rank=row.rank,
        name=row.name,
        unit=row.unit,
        services=row.services,
        points=row.points,
        rating=_number(row.rating_avg, t),
        response=response,
    )


def _by_community(rows: Sequence[EvaluationRow]) -> dict[str, list[EvaluationRow]]:
    grouped: dict[str, list[EvaluationRow]] = {}
    for row in rows:
        grouped.setdefault(row.community, []).append(row)
    return grouped


def evaluation_summary(t: Translator, period: str, rows: Sequence[EvaluationRow]) -> str:
    lines = [
        t(
            "reports.evaluation_header",
            period=period,
            volunteers=len(rows),
            services=sum(r.services for r in rows),
            points=sum(r.points for r in rows),
        )
    ]
    for community, members in _by_community(rows).items():
        lines.append("")
        lines.append(t("reports.evaluation_community", community=community, count=len(members)))
        lines += [evaluation_line(t, r) for r in members[:LINES_PER_COMMUNITY]]
        if len(members) > LINES_PER_COMMUNITY:
            lines.append(t("reports.more", n=len(members) - LINES_PER_COMMUNITY))
    lines += ["", t("reports.evaluation_files")]
    return _fit(lines, t)


def rate_line(t: Translator, line: RateLine) -> str:
    values = {
        "expected": line.expected,
        "registered": line.registered,
        "registration": _percent(line.registration_rate, t),
        "active": line.active,
        "activity": _percent(line.activity_rate, t),
    }
    if line.grid_code is None:
        return t("reports.rates_community", community=line.community, **values)
    return t("reports.rates_grid", grid=line.grid_name or line.grid_code, **values)


def issue_text(t: Translator, issue: RowIssue) -> str:
    reason = t(f"reports.roster_reason.{issue.code}", **issue.params)
    return t("reports.roster_line", line=issue.line, reason=reason)


def roster_summary(t: Translator, check: RosterCheck, file_name: str) -> str:
    lines = [
        t(
            "reports.roster_summary",
            file=file_name,
            rows=check.rows,
            new=check.new,
            matched=check.matched,
            already=check.already,
            conflicts=len(check.conflicts),
            bad=check.bad_lines,
        )
    ]
    for title, issues in (
        ("reports.roster_bad_title", check.bad),
        ("reports.roster_conflict_title", check.conflicts),
    ):
        if issues:
            lines += ["", t(title)]
            lines += [issue_text(t, i) for i in issues[:ISSUES_SHOWN]]
            if len(issues) > ISSUES_SHOWN:
                lines.append(t("reports.more", n=len(issues) - ISSUES_SHOWN))
    lines.append("")
    if check.importable:
        lines.append(t("reports.roster_will_import", count=check.importable))
    else:
        lines.append(t("reports.roster_nothing"))
    return _fit(lines, t)


# --- sending files --------------------------------------------------------------------------


async def _send_document(message: Message, data: bytes, filename: str) -> None:
    """Many units mean many files: wait out Telegram's flood limit instead of failing."""
    for _ in range(3):
        try:
            await message.answer_document(BufferedInputFile(data, filename=filename))
            return
        except TelegramRetryAfter as exc:
            await asyncio.sleep(min(exc.retry_after, MAX_RETRY_AFTER))
    log.warning("gave up sending %s to chat %s", filename, message.chat.id)


def _report_translator(app: AppContext) -> Translator:
    # Reports go to the home organisations: in the community's language, not the sender's.
    return Translator(app.settings.community.default_language)


# --- handlers -------------------------------------------------------------------------------


async def evaluation(
    message: Message,
    command: CommandObject,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    year, quarter = evaluations.parse_quarter(command.args, app.now(), app.settings.tz)
    period = f"{year}Q{quarter}"
    rows = await evaluations.quarterly_evaluation(app, session, year, quarter)
    if not rows:
        await message.answer(t("reports.evaluation_empty", period=period))
        return
    await message.answer(evaluation_summary(t, period, rows))
    rt = _report_translator(app)
    headers = [rt(f"reports.col.{c}") for c in xlsx.COLUMNS]
    units = evaluations.by_unit(rows)
    workbook = xlsx.evaluation_xlsx(headers, rt("reports.sheet_all"), rows, units)
    await _send_document(message, workbook, rt("reports.file_evaluation_xlsx", period=period))
    for unit, unit_rows in units.items():
        name = rt("reports.file_evaluation_csv", period=period, unit=xlsx.file_part(unit))
        await _send_document(message, xlsx.evaluation_csv(headers, unit_rows), name)


async def awards(
    message: Message,
    command: CommandObject,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    year = evaluations.parse_year(command.args, app.now(), app.settings.tz)
    rows = await evaluations.annual_awards(app, session, year)
    rule = {
        "min_services": evaluations.setting(app, "awards_min_services"),
        "top_n": evaluations.setting(app, "awards_top_n"),
    }
    if not rows:
        await message.answer(t("reports.awards_empty", year=year, **rule))
        return
    lines = [t("reports.awards_header", year=year, **rule)]
    for community, members in _by_community(rows).items():
        lines += ["", t("reports.awards_community", community=community)]
        lines += [evaluation_line(t, r) for r in members]
    await message.answer(_fit(lines, t))
    rt = _report_translator(app)
    headers = [rt(f"reports.col.{c}") for c in xlsx.COLUMNS]
    workbook = xlsx.evaluation_xlsx(headers, str(year), rows, {})
    await _send_document(message, workbook, rt("reports.file_awards_xlsx", year=year))


async def rates(
    message: Message,
    command: CommandObject,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    year, month = evaluations.parse_month(command.args, app.now(), app.settings.tz)
    report = await rates_service.rates(app, session, year, month)
    period = evaluations.month_period(app.settings.tz, year, month)
    helpers = (await kinds.figures_by_kind(session, period))["resident"]
    helper_line = t("helper.rates_line", **asdict(helpers))  # 党群接单: not in the rates
    if not report.communities:
        await message.answer(f"{t('reports.rates_empty')}\n\n{helper_line}")
        return
    lines = [t("reports.rates_header", period=report.period)]
    for community in report.communities:
        lines += ["", rate_line(t, community)]
        lines += [rate_line(t, g) for g in report.grids if g.community == community.community]
    lines += ["", helper_line]
    await message.answer(_fit(lines, t))


async def roster_ask(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(RosterUpload.file)
    await message.answer(t("reports.roster_ask"))


async def roster_not_a_file(message: Message, t: Translator) -> None:
    await message.answer(t("reports.roster_send_file"))


async def _download(bot: Bot, file_id: str) -> bytes | None:
    try:
        buffer = await bot.download(file_id)
    except (TelegramAPIError, TelegramNetworkError, OSError) as exc:
        log.warning("roster download failed file=%s: %s", file_id, exc)
        return None
    return buffer.read() if buffer is not None else None


async def roster_file(
    message: Message,
    state: FSMContext,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    document = message.document
    assert document is not None and message.bot is not None  # HasDocument
    if document.file_size and document.file_size > ROSTER_MAX_BYTES:
        await message.answer(t("reports.roster_too_big", mb=ROSTER_MAX_BYTES // (1024 * 1024)))
        return
    content = await _download(message.bot, document.file_id)
    if content is None:
        await message.answer(t("reports.roster_download_failed"))
        return
    file_name = document.file_name or "roster"
    try:
        check = await roster.check_roster(app, session, actor.user_id, file_name, content)
    except UserError as err:  # a bad file: say why and keep waiting for a corrected one
        await message.answer(t(err.key, **err.params))
        return
    await state.clear()
    markup = None
    if check.importable:
        batch = check.batch_id
        markup = kb.rows(
            [
                kb.button(t("reports.roster_import"), RosterCb(action="go", batch_id=batch).pack()),
                kb.button(t("reports.roster_cancel"), RosterCb(action="no", batch_id=batch).pack()),
            ]
        )
    await message.answer(roster_summary(t, check, file_name), reply_markup=markup)


async def roster_decided(
    query: CallbackQuery,
    callback_data: RosterCb,
    actor: Actor,
    t: Translator,
    session: AsyncSession,
    app: AppContext,
) -> None:
    if callback_data.action == "go":
        result = await roster.import_roster(app, session, actor.user_id, callback_data.batch_id)
        text = t("reports.roster_imported", imported=result.imported, matched=result.matched)
        if result.skipped:
            text += "\n" + t("reports.roster_skipped", skipped=result.skipped)
    else:
        await roster.cancel_roster(app, session, actor.user_id, callback_data.batch_id)
        text = t("reports.roster_cancelled")
    await query.answer()
    if query.message is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        await query.message.answer(text)
