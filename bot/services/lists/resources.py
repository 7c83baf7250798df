"""资源清单: units, venues, equipment and skills that partner organisations (共建单位) and
members offer: who offers what, when, and whom to call (the contact is for staff only).

Staff add, edit, switch off and search them; a wish's review card names the resources whose
categories match the wish (``suggest_for``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Resource, Staff
from bot.db.models.lists import RESOURCE_KINDS
from bot.db.tx import begin_write, transactional
from bot.services import audit
from bot.services.context import AppContext
from bot.services.errors import UserError

TITLE_MAX = 64
PROVIDER_MAX = 64
AVAILABLE_MAX = 64
CONTACT_MAX = 32
LIST_MAX = 30
SUGGEST_MAX = 2
# What staff may type for a kind, besides its id (zh-CN and en words).
KIND_WORDS = {
    "unit": ("unit", "单位", "共建单位", "组织"),
    "venue": ("venue", "场地", "场所", "活动室"),
    "equipment": ("equipment", "设备", "器材", "物资"),
    "skill": ("skill", "技能", "专业", "服务"),
}


@dataclass(frozen=True, slots=True)
class ResourceForm:
    kind: str
    title: str
    provider: str
    available: str = ""
    categories: tuple[str, ...] = ()
    contact_name: str = ""
    contact_phone: str = ""


@dataclass(frozen=True, slots=True)
class ResourceView:
    id: int
    kind: str
    title: str
    provider: str
    available: str
    categories: tuple[str, ...]
    contact_name: str  # staff only
    contact_phone: str  # staff only
    grid_id: int | None
    active: bool


def _view(r: Resource) -> ResourceView:
    return ResourceView(
        id=r.id,
        kind=r.kind,
        title=r.title,
        provider=r.provider,
        available=r.available,
        categories=tuple(r.categories),
        contact_name=r.contact_name,
        contact_phone=r.contact_phone,
        grid_id=r.grid_id,
        active=r.active,
    )


def _text(value: str, max_len: int, *, required: bool = False) -> str:
    value = " ".join(value.split())
    if (required and not value) or len(value) > max_len or value.startswith("/"):
        raise UserError("resources.field_invalid", max=max_len)
    return value


def kind_of(word: str) -> str:
    word = word.strip().lower()
    for kind, words in KIND_WORDS.items():
        if word in words:
            return kind
    raise UserError("resources.kind_invalid")


def categories_of(app: AppContext, text: str) -> tuple[str, ...]:
    """Category ids from ids or names (either language), separated by commas or spaces."""
    names: dict[str, str] = {}
    for c in app.settings.categories.resolved:
        names[c.id] = c.id
        names[c.name("zh-CN")] = c.id
        names[c.name("en").lower()] = c.id
    found: list[str] = []
    for part in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        cid = names.get(part) or names.get(part.lower())
        if cid is None:  # a word of a name will do ("维修", "儿童", "legal") if only one has it
            near = {v for k, v in names.items() if len(part) >= 2 and part.lower() in k.lower()}
            cid = near.pop() if len(near) == 1 else None
        if cid is None:
            raise UserError("resources.category_invalid", word=part)
        if cid not in found:
            found.append(cid)
    return tuple(found)


def parse_line(app: AppContext, text: str) -> ResourceForm:
    """类型 | 名称 | 提供方 | 时间 | 联系人 | 电话 | 类别: the last four may be left out."""
    parts = [p.strip() for p in text.replace("｜", "|").split("|")]
    if len(parts) < 3 or len(parts) > 7:
        raise UserError("resources.usage")
    parts += [""] * (7 - len(parts))
    kind, title, provider, available, contact, phone, cats = parts
    return ResourceForm(
        kind=kind_of(kind),
        title=_text(title, TITLE_MAX, required=True),
        provider=_text(provider, PROVIDER_MAX, required=True),
        available=_text(available, AVAILABLE_MAX),
        categories=categories_of(app, cats),
        contact_name=_text(contact, CONTACT_MAX),
        contact_phone=_phone(phone),
    )


def _phone(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit() or ch in "+-")
    if not 6 <= sum(ch.isdigit() for ch in digits) <= 15:
        raise UserError("errors.phone")
    return digits


async def _staff(session: AsyncSession, user_id: int) -> Staff:
    staff = await session.get(Staff, user_id)
    if staff is None:
        raise UserError("errors.staff_only")
    return staff


def _grid_scope(staff: Staff) -> int | None:
    """Grid staff keep resources of their grid; community staff keep community-wide ones."""
    return staff.grid_id if staff.scope == "grid" and not staff.is_admin else None


def _may_edit(staff: Staff, resource: Resource) -> bool:
    return _grid_scope(staff) is None or resource.grid_id == staff.grid_id


@transactional
async def add(
    app: AppContext, session: AsyncSession, staff_user_id: int, form: ResourceForm
) -> ResourceView:
    if form.kind not in RESOURCE_KINDS:
        raise UserError("resources.kind_invalid")
    await begin_write(session)
    staff = await _staff(session, staff_user_id)
    now = app.now()
    resource = Resource(
        kind=form.kind,
        title=form.title,
        provider=form.provider,
        available=form.available,
        categories=list(form.categories),
        contact_name=form.contact_name,
        contact_phone=form.contact_phone,
        grid_id=_grid_scope(staff),
        active=True,
        created_by=staff_user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(resource)
    await session.flush()
    audit.record(session, staff_user_id, "resource.add", "resource", resource.id)
    await session.commit()
    return _view(resource)


async def _editable(session: AsyncSession, staff_user_id: int, resource_id: int) -> Resource:
    staff = await _staff(session, staff_user_id)
    resource = await session.get(Resource, resource_id, populate_existing=True)
    if resource is None or not _may_see(staff, resource):
        raise UserError("resources.unknown")
    if not _may_edit(staff, resource):
        raise UserError("lists.not_your_grid")
    return resource


@transactional
async def edit(
    app: AppContext,
    session: AsyncSession,
    staff_user_id: int,
    resource_id: int,
    form: ResourceForm,
) -> ResourceView:
    await begin_write(session)
    resource = await _editable(session, staff_user_id, resource_id)
    resource.kind = form.kind
    resource.title = form.title
    resource.provider = form.provider
    resource.available = form.available
    resource.categories = list(form.categories)
    resource.contact_name = form.contact_name
    resource.contact_phone = form.contact_phone
    resource.updated_at = app.now()
    audit.record(session, staff_user_id, "resource.edit", "resource", resource_id)
    await session.commit()
    return _view(resource)


@transactional
async def set_active(
    app: AppContext, session: AsyncSession, staff_user_id: int, resource_id: int, active: bool
) -> ResourceView:
    await begin_write(session)
    resource = await _editable(session, staff_user_id, resource_id)
    resource.active = active
    resource.updated_at = app.now()
    audit.record(session, staff_user_id, "resource.active", "resource", resource_id, active=active)
    await session.commit()
    return _view(resource)


def _may_see(staff: Staff, resource: Resource) -> bool:
    scope = _grid_scope(staff)
    return scope is None or resource.grid_id in (None, scope)


async def get(session: AsyncSession, staff_user_id: int, resource_id: int) -> ResourceView:
    staff = await _staff(session, staff_user_id)
    resource = await session.get(Resource, resource_id)
    if resource is None or not _may_see(staff, resource):
        raise UserError("resources.unknown")
    return _view(resource)


def matches(app: AppContext, view: ResourceView, query: str) -> bool:
    """Every word of the query is in the resource's words or its categories' names."""
    cats = app.settings.categories
    names = []
    for cid in view.categories:
        c = cats.get(cid)
        names += [cid, c.name("zh-CN"), c.name("en")] if c else [cid]
    words = list(KIND_WORDS.get(view.kind, ()))
    haystack = " ".join([view.title, view.provider, view.available, *names, *words]).lower()
    return all(word in haystack for word in query.lower().split())


async def search(
    app: AppContext,
    session: AsyncSession,
    grid_ids: frozenset[int] | None,
    query: str = "",
    *,
    include_inactive: bool = False,
    limit: int = LIST_MAX,
) -> list[ResourceView]:
    """Resources visible to a scope (None: every grid) matching the query's words."""
    stmt = select(Resource).order_by(Resource.active.desc(), Resource.id)
    if not include_inactive:
        stmt = stmt.where(Resource.active.is_(True))
    if grid_ids is not None:
        stmt = stmt.where(or_(Resource.grid_id.is_(None), Resource.grid_id.in_(list(grid_ids))))
    views = [_view(r) for r in (await session.scalars(stmt)).all()]
    found = [v for v in views if matches(app, v, query)]
    return found[:limit]


async def search_for_staff(
    app: AppContext, session: AsyncSession, staff_user_id: int, query: str = ""
) -> list[ResourceView]:
    staff = await _staff(session, staff_user_id)
    scope = _grid_scope(staff)
    grids = None if scope is None else frozenset({scope})
    return await search(app, session, grids, query, include_inactive=True)


async def suggest_for(
    session: AsyncSession, category: str, grid_id: int | None, limit: int = SUGGEST_MAX
) -> list[ResourceView]:
    """Active resources offered for a wish's category, in its grid or community-wide."""
    stmt = select(Resource).where(Resource.active.is_(True)).order_by(Resource.id)
    stmt = stmt.where(or_(Resource.grid_id.is_(None), Resource.grid_id == grid_id))
    found = [_view(r) for r in (await session.scalars(stmt)).all() if category in r.categories]
    return found[:limit]
