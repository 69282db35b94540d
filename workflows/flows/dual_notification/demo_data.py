"""A synthetic district for the demo: enterprises with valid USCCs in division 370212, realistic Chinese
business scopes mixing the permit-routing keywords, and how each department behaves when notified."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rules import RuleSet
from workflows import uscc
from workflows.demo.parts import Place

DIVISION = "370212"  # 崂山区
PREFIXES = [
    "崂山",
    "青岛",
    "海尔",
    "石老人",
    "金家岭",
    "沙子口",
    "王哥庄",
    "北宅",
    "中韩",
    "麦岛",
    "松岭",
    "海韵",
]
WORDS = ["鑫源", "恒泰", "瑞丰", "佳和", "海纳", "安康", "百顺", "新航", "德润", "嘉禾", "云帆", "博远"]
GENERIC = [
    "日用百货销售",
    "技术服务、技术开发、技术咨询",
    "办公用品销售",
    "会议及展览服务",
    "服装服饰零售",
    "五金产品零售",
    "家用电器销售",
    "信息咨询服务(不含许可类信息咨询服务)",
    "广告设计、代理",
    "物业管理",
]
#: business kinds: (name suffix, scope items that need permits)
KINDS: list[tuple[str, list[str]]] = [
    ("大药房有限公司", ["药品零售", "食品销售(仅销售预包装食品)"]),
    ("酒店管理有限公司", ["住宿服务", "餐饮服务"]),
    ("餐饮管理有限公司", ["餐饮服务"]),
    ("便利店", ["食品销售", "烟草制品零售"]),
    ("美容美发店", ["理发服务", "生活美容服务"]),
    ("网络科技有限公司", ["互联网上网服务"]),
    ("文化传媒有限公司", ["出版物零售", "歌舞娱乐活动"]),
    ("物流有限公司", ["道路货物运输(不含危险货物)"]),
    ("人力资源有限公司", ["职业中介活动", "劳务派遣服务"]),
    ("食品有限公司", ["食品生产", "食品销售"]),
    ("宠物医院", ["动物诊疗", "兽药经营"]),
    ("贸易有限公司", []),  # nothing needing a permit
    ("科技有限公司", []),
]
#: how departments behave in the demo: hours to claim (min, max) and the share that never claims
BEHAVIOUR: dict[str, tuple[float, float, float]] = {
    "SCJG_SP": (0.5, 20, 0.0),  # food section: prompt
    "SCJG_YP": (1, 30, 0.0),  # drug section: prompt
    "WJJ": (20, 70, 0.05),  # health commission: often late
    "GAFJ": (30, 90, 0.30),  # public security: late, and a third never claim
    "WLJ": (2, 40, 0.10),
    "YCJ": (1, 24, 0.0),
    "JTJ": (40, 100, 0.20),
}
DEFAULT_BEHAVIOUR = (2, 44, 0.05)


@dataclass(frozen=True)
class License:
    at: datetime
    data: dict[str, Any]


def make_uscc(rng: random.Random) -> str:
    body = "".join(rng.choice(uscc.ALPHABET) for _ in range(9))
    return uscc.make("91" + DIVISION + body)


def district(
    ruleset: RuleSet, count: int, start: datetime, days: int, seed: int, places: Sequence[Place] = ()
) -> list[License]:
    """``count`` license.issued events spread over ``days`` working hours (8:00–18:00) from ``start``,
    in ``places`` (default: the rule set's grids). The places are drawn from a generator of their own,
    so the enterprises, their scopes and times are the same whatever the places."""
    rng = random.Random(seed)
    placer = random.Random(f"{seed}:places")
    grids = ruleset.organisation.grids
    streets = {s.code: s.name for s in ruleset.organisation.streets}
    seen: set[str] = set()
    out = []
    for _ in range(count):
        code = make_uscc(rng)
        while code in seen:
            code = make_uscc(rng)
        seen.add(code)
        suffix, permits = rng.choice(KINDS)
        scope = rng.sample(GENERIC, rng.randint(1, 3)) + permits
        rng.shuffle(scope)
        grid = rng.choice(grids)
        place = placer.choice(places) if places else Place(grid.code, grid.street)
        day = rng.randrange(days)
        at = start + timedelta(days=day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
        out.append(
            License(
                at,
                {
                    "uscc": code,
                    "name": f"青岛{rng.choice(PREFIXES)}{rng.choice(WORDS)}{suffix}",
                    "business_scope": "；".join(scope)
                    + "。(依法须经批准的项目,经相关部门批准后方可开展经营活动)",
                    "address": f"山东省青岛市崂山区{streets.get(place.street, '')}{rng.randint(1, 300)}号",
                    "street": place.street,
                    "grid": place.grid,
                    "legal_representative": rng.choice(["王", "李", "张", "刘", "陈"])
                    + rng.choice(["伟", "芳", "娜", "敏", "静", "强", "磊", "洋"]),
                    "issued_at": at.isoformat(),
                },
            )
        )
    out.sort(key=lambda lic: lic.at)
    return out


def claim_delay(department: str, rng: random.Random) -> float | None:
    """Hours a department takes to claim a notice, or None when it never does."""
    low, high, never = BEHAVIOUR.get(department, DEFAULT_BEHAVIOUR)
    if rng.random() < never:
        return None
    return rng.uniform(low, high)
