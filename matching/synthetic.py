"""Seeded synthetic districts and wishes, for benchmarks and tests.

Shaped after the reports in DOMAIN.md: about 650 grids in about 60 communities, 30,000
in-service volunteers with one to three skills, a couple of hundred distinct free-text
specialties, weekly free time mostly on weekday evenings and weekends, and wishes written the
way residents write them. Category indices follow the DOMAIN.md order (see CATEGORIES).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import numpy as np
import numpy.typing as npt

from matching.ranking import VolunteerPool, WishQuery
from matching.slots import DEFAULT_SLOTS, Slot, hours_until_next, slots_overlapping

__all__ = [
    "CATEGORIES",
    "SPECIALTY_WORDS",
    "community_of_grid",
    "district",
    "user_id_of",
    "wishes",
]

CATEGORIES: tuple[str, ...] = (
    "repair",
    "errands",
    "elderly_care",
    "children",
    "health",
    "legal",
    "disputes",
    "environment",
    "safety",
    "digital",
    "employment",
    "policy",
    "other",
)

SPECIALTY_WORDS: tuple[str, ...] = (
    "水电维修", "家电维修", "电工", "木工", "管道疏通", "开锁", "电脑维修", "手机使用",
    "网络安全", "视频剪辑", "法律咨询", "律师", "合同审查", "劳动仲裁", "调解", "医生",
    "护士", "中医", "康复理疗", "急救", "心理咨询", "养老护理", "陪诊", "营养",
    "教师", "数学辅导", "英语辅导", "作文辅导", "书法", "绘画", "音乐", "育儿",
    "会计", "财税", "社保政策", "医保政策", "就业指导", "简历修改", "消防安全", "物业管理",
    "园艺", "环保", "垃圾分类", "驾驶", "搬运", "快递跑腿", "烹饪", "理发",
    "摄影", "翻译",
)  # fmt: skip

WISH_TEXTS: tuple[tuple[str, ...], ...] = (
    ("厨房水管漏水了，周六上午有人能来修吗", "家里灯坏了，想请电工帮忙换一下", "门锁坏了打不开",
     "洗衣机不转了，能帮忙看看吗", "卫生间下水道堵了需要疏通"),
    ("腿脚不方便，想请人帮忙取个快递", "帮忙去药店买点降压药", "家里米吃完了，想请人帮忙买一袋",
     "帮忙把旧家具搬到楼下"),
    ("老人独居，想请志愿者每周来陪陪聊天", "陪我家老人去医院复查", "帮老人理发",
     "老人需要有人帮忙做顿饭"),
    ("孩子数学作业不会做，想找人辅导", "周末想请人辅导孩子英语", "孩子放学后没人接，能帮忙吗",
     "想给孩子找个书法老师"),
    ("想请医生帮忙看看血压", "老人摔了一跤，想咨询康复理疗", "最近睡不好，想找心理咨询",
     "想学学急救知识"),
    ("劳动合同纠纷，想咨询律师", "租房合同有问题，想找人看看", "被拖欠工资怎么申请劳动仲裁",
     "遗产继承的法律问题想咨询一下"),
    ("楼上噪音太大，想请人调解", "邻居占用楼道堆东西，协商不成", "和邻居因为漏水闹矛盾了"),
    ("楼道堆满杂物需要清理", "小区绿化带里垃圾很多", "垃圾分类不太会，想请人讲讲"),
    ("小区消防通道被占用", "楼道里电动车充电有安全隐患", "路灯坏了晚上很黑"),
    ("教老人用手机挂号", "电脑中病毒了，想请人帮忙处理", "不会用手机交水电费",
     "想学视频剪辑"),
    ("想找工作，简历怎么写", "失业了想咨询就业指导", "想了解技能培训"),
    ("医保报销政策咨询", "社保怎么续交", "老人补贴怎么申请"),
    ("想借个梯子", "家里猫跑丢了，帮忙找找", "想请人帮忙拍张全家福"),
)  # fmt: skip

COMMUNITIES = 60
BUILDINGS_PER_GRID = 30
SPECIALTY_STRINGS = 200
USER_ID_BASE = 5_000_000_000  # synthetic Telegram ids, far from volunteer ids
REFERENCE_NOW = datetime(2024, 5, 6, 9, 30, tzinfo=timezone(timedelta(hours=8)))  # a Monday


def community_of_grid(grid: int, grids: int, communities: int = COMMUNITIES) -> int:
    """Grids are numbered so that each community holds a contiguous run of about 11 of them."""
    return grid * communities // grids


def user_id_of(volunteer_id: int) -> int:
    return USER_ID_BASE + volunteer_id


def _specialty_strings(rng: np.random.Generator) -> list[str]:
    strings: dict[str, None] = {}
    while len(strings) < SPECIALTY_STRINGS:
        picked = rng.choice(len(SPECIALTY_WORDS), size=int(rng.integers(1, 4)), replace=False)
        strings[" ".join(SPECIALTY_WORDS[i] for i in picked)] = None
    return list(strings)


def _bitmask(
    rng: np.random.Generator, n: int, counts: Sequence[int], weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.uint64]:
    """n masks over len(weights) bits; each sets a count drawn from `counts`, biased by weights.

    Gumbel top-k: adding Gumbel noise to log-weights and keeping the largest keys samples
    without replacement in proportion to the weights, for all rows at once.
    """
    keys = np.log(weights) + rng.gumbel(size=(n, len(weights)))
    order = np.argsort(-keys, axis=1)
    how_many = rng.choice(np.asarray(counts), size=n)
    chosen = np.arange(len(weights)) < how_many[:, None]  # first how_many columns of `order`
    bits = np.where(chosen, np.left_shift(np.uint64(1), order.astype(np.uint64)), np.uint64(0))
    masks: npt.NDArray[np.uint64] = np.bitwise_or.reduce(bits, axis=1)
    return masks


def district(volunteers: int, seed: int, categories: int = 13, grids: int = 650) -> VolunteerPool:
    """A seeded district of `volunteers` in-service volunteers."""
    rng = np.random.default_rng(seed)
    n = volunteers
    ids = np.arange(1, n + 1, dtype=np.int64)
    # Some categories (repair, errands, elderly care) attract more volunteers than others.
    skill_p = np.linspace(2.0, 1.0, categories)
    skills = _bitmask(rng, n, [1, 1, 2, 2, 3], skill_p)
    slot_p = np.array([1.0, 0.8, 3.0, 2.0, 1.6, 1.2, 2.0, 1.6, 1.2])[: len(DEFAULT_SLOTS)]
    availability = _bitmask(rng, n, [1, 2, 2, 3, 4], slot_p)
    grid = rng.integers(0, grids, size=n)
    community = grid * COMMUNITIES // grids  # = community_of_grid, vectorised
    building_no = rng.integers(1, BUILDINGS_PER_GRID + 1, size=n)
    unknown_building = rng.random(n) < 0.15
    building = ["" if u else f"{b}栋" for u, b in zip(unknown_building, building_no, strict=True)]
    distinct = _specialty_strings(rng)
    has_specialty = rng.random(n) < 0.7
    specialty_pick = rng.integers(0, len(distinct), size=n)
    specialties = [
        distinct[s] if h else "" for h, s in zip(has_specialty, specialty_pick, strict=True)
    ]
    max_tasks = rng.choice([1, 2, 2, 3, 3, 5], size=n)
    active_tasks = np.minimum(rng.poisson(0.6, size=n), max_tasks)  # some are full
    services_total = np.where(rng.random(n) < 0.2, 0, rng.poisson(8, size=n) + 1)
    newcomer = services_total == 0
    completion_rate = np.where(newcomer, 0.8, rng.beta(9, 1.5, size=n))
    rating_avg = np.where(newcomer, 4.5, np.clip(rng.normal(4.5, 0.4, size=n), 1.0, 5.0))
    return VolunteerPool(
        ids=ids,
        skills=skills,
        specialties=specialties,
        availability=availability,
        grid=grid,
        community=community,
        building=building,
        active_tasks=active_tasks,
        max_tasks=max_tasks,
        recent_offers=rng.poisson(1.5, size=n),
        points_year=np.round(rng.gamma(2.0, 15.0, size=n) * ~newcomer, 1),
        services_total=services_total,
        completion_rate=completion_rate,
        rating_avg=rating_avg,
        declines_recent=rng.poisson(0.7, size=n),
        served_this_year=(rng.random(n) < 0.65) & ~newcomer,
        user_ids=ids + USER_ID_BASE,
    )


def wishes(
    m: int,
    seed: int,
    categories: int = 13,
    grids: int = 650,
    *,
    volunteers: int = 30_000,
    slots: Sequence[Slot] = DEFAULT_SLOTS,
    now: datetime = REFERENCE_NOW,
) -> list[WishQuery]:
    """`m` seeded wishes; about 10% come from residents who are volunteers themselves."""
    rng = np.random.default_rng(seed)
    result: list[WishQuery] = []
    for _ in range(m):
        category = int(rng.integers(0, categories))
        texts = WISH_TEXTS[category % len(WISH_TEXTS)]
        asked_at = now + timedelta(hours=float(rng.uniform(0, 7 * 24)))
        if rng.random() < 0.4:
            slot_mask = 0  # "any time"
        else:
            # A window of a few daytime hours within the next three days, as residents ask.
            day = asked_at + timedelta(days=int(rng.integers(0, 4)))
            begins = day.replace(hour=int(rng.integers(8, 20)), minute=0, second=0, microsecond=0)
            slot_mask = slots_overlapping(begins, begins + timedelta(hours=3), slots)
        grid = int(rng.integers(0, grids))
        if rng.random() < 0.1:
            resident = user_id_of(int(rng.integers(1, volunteers + 1)))
        else:
            resident = int(rng.integers(1, USER_ID_BASE))
        exclude = frozenset(int(v) for v in rng.integers(1, volunteers + 1, size=rng.poisson(1)))
        result.append(
            WishQuery(
                category_index=category,
                text=texts[int(rng.integers(0, len(texts)))],
                slot_mask=slot_mask,
                slot_hours_until=tuple(hours_until_next(asked_at, slots)),
                grid=grid,
                community=community_of_grid(grid, grids),
                building="" if rng.random() < 0.3 else f"{int(rng.integers(1, 31))}栋",
                resident_user_id=resident,
                exclude_ids=exclude,
            )
        )
    return result
