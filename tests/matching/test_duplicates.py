"""Neighbours reporting the same thing in their own words: real pairs, both ways."""

from __future__ import annotations

import pytest

from matching.duplicates import Candidate, neighbour_duplicate, same_building, similarity

THRESHOLD = 0.55  # the default of wishes.neighbour_similarity

SAME_THING: list[tuple[str, str]] = [
    ("俺家楼道灯坏了好几天了，晚上黑咕隆咚的", "8栋2单元楼道的灯不亮了，麻烦来修一下"),
    ("楼道灯坏了", "楼道里的灯坏了好几天了"),
    ("8栋2单元楼道灯不亮了", "楼道的灯坏了，黑漆漆的"),
    ("单元门口的下水道堵了，臭得很", "下水道又堵了，污水都冒出来了"),
    ("电梯坏了，老人上不去楼", "我们楼电梯又坏了，困了好久"),
    ("楼下垃圾没人清，都堆成山了", "楼下的垃圾堆了好几天没人清理"),
    ("小区门口路灯不亮了", "门口那盏路灯晚上不亮"),
    ("3号楼楼道灯坏了", "3号楼的楼道灯不亮"),
    ("楼顶漏水，下雨天家里天花板滴水", "下雨楼顶漏水了，天花板一直滴水"),
    ("化粪池满了，味道很大", "化粪池溢出来了，臭死了"),
    ("楼道里堆满了杂物，着火怎么办", "楼道堆放杂物很多，有消防隐患"),
    ("stairwell light is broken", "the stairwell light is broken again"),
]

DIFFERENT: list[tuple[str, str]] = [
    ("楼道灯坏了", "厨房水管漏水了"),
    ("楼道灯坏了", "电梯坏了"),
    ("3号楼楼道灯坏了", "5号楼楼道灯坏了"),  # same words, another building
    ("下水道堵了", "楼道灯不亮"),
    ("家里马桶堵了", "单元门口下水道堵了"),  # one flat's toilet is not the shared drain
    ("帮我修一下电脑", "帮我修一下自行车"),
    ("楼下垃圾没人清", "楼下有人乱停车堵路"),
    ("想找人陪我去医院", "想找人帮我买菜"),
    ("厨房水管漏水了，周六上午有人能来修吗", "卫生间灯泡坏了，周六上午有人能来换吗"),
    ("窗户玻璃碎了", "楼道窗户关不上"),
    ("楼道灯坏了", "楼道里堆满杂物"),
    ("门禁卡刷不开", "门口路灯不亮"),
    ("水管漏水", "水表读数不对"),
    ("谢谢", "谢谢你们"),  # no substance at all
]


@pytest.mark.parametrize(("a", "b"), SAME_THING)
def test_neighbours_saying_the_same_thing_match(a: str, b: str) -> None:
    assert similarity(a, b) >= THRESHOLD
    assert similarity(b, a) == similarity(a, b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_things_do_not_match(a: str, b: str) -> None:
    assert similarity(a, b) < THRESHOLD


def test_only_the_same_category_counts() -> None:
    earlier = [Candidate(7, "楼道灯坏了好几天了", "environment", same_building=True)]
    assert neighbour_duplicate("楼道的灯不亮了", "repair", earlier, threshold=THRESHOLD) is None
    found = neighbour_duplicate("楼道的灯不亮了", "environment", earlier, threshold=THRESHOLD)
    assert found is not None and found.wish_id == 7 and found.same_building


def test_the_same_building_wins_a_near_tie_then_the_earlier_wish() -> None:
    candidates = [
        Candidate(3, "楼道灯坏了", "repair", same_building=False),
        Candidate(5, "楼道灯坏了", "repair", same_building=True),
        Candidate(9, "楼道灯坏了", "repair", same_building=True),
    ]
    found = neighbour_duplicate("楼道的灯坏了", "repair", candidates, threshold=THRESHOLD)
    assert found is not None and (found.wish_id, found.same_building) == (5, True)


def test_nothing_similar_enough_is_no_match() -> None:
    candidates = [Candidate(3, "厨房水管漏水了", "repair", same_building=True)]
    assert neighbour_duplicate("楼道灯坏了", "repair", candidates, threshold=THRESHOLD) is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("8栋1单元", "8栋2单元", True),
        ("8号楼302", "８栋 1 单元", True),
        ("8栋1单元", "9栋1单元", False),
        ("锦园小区东门", "锦园小区东门", True),
        ("8栋", None, False),
    ],
)
def test_same_building_reads_the_building_number(a: str, b: str | None, same: bool) -> None:
    assert same_building(a, b) is same
