"""A synthetic grid directory of Laoshan (崂山区): 654 grids, 735 full-time grid workers, 5 streets.

The district's published figures (654 grids, 735 workers) with made-up people: grids split by the
streets' population (the urban 中韩 and 金家岭 have the most, the rural 王哥庄 and 北宅 the fewest),
81 grids with two workers, about 2 % of the workers inactive. A grid's code and name follow
``rules/organisation.yaml`` (``ZH-001``, 中韩街道第1网格); workers are ``GW-0001`` … in grid order, each
with the app recipient ``app:gw-0001``. A worker's backup is the other worker of a two-worker grid, else
the first worker of the next grid of the same street (the last grid's: the previous grid's).

The file ships as ``data/laoshan_directory.csv`` (``synthetic_path()``); regenerate it, byte for byte
the same, with ``python -m workflows.flows.grid_check.directory_synthetic [PATH]``.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

from workflows.flows.grid_check.directory_parse import HEADER

SEED = 370212
GRIDS = 654
WORKERS = 735
#: (street code, name, grid code prefix, grids), in the order of organisation.yaml
STREETS = (
    ("ZHONGHAN", "中韩街道", "ZH", 200),
    ("SHAZIKOU", "沙子口街道", "SZK", 130),
    ("WANGGEZHUANG", "王哥庄街道", "WGZ", 90),
    ("BEIZHAI", "北宅街道", "BZ", 64),
    ("JINJIALING", "金家岭街道", "JJL", 170),
)
INACTIVE = 15

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万覃武钱戴严莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉萍红华建国志峰鹏辉斌宇浩凯健俊帆"
    "晨欣怡佳琳雪梅海燕波宁亮成林文晓慧颖婷倩淑珍春新海涛德福顺利兴旺振华家乐"
)


def synthetic_path() -> Path:
    """The shipped synthetic directory (``data/laoshan_directory.csv`` beside this module)."""
    return Path(__file__).resolve().parent / "data" / "laoshan_directory.csv"


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return rng.choice(SURNAMES) + given


def synthetic_rows(seed: int = SEED) -> list[tuple[str, ...]]:
    """The rows of the synthetic directory (without the header), in grid order."""
    rng = random.Random(seed)
    doubles = set(rng.sample(range(GRIDS), WORKERS - GRIDS))
    # per street: its grids, each a list of worker numbers (1-based, in grid order)
    layout: list[tuple[str, str, list[tuple[str, str, list[int]]]]] = []
    number, index = 0, 0
    for street, street_name, prefix, count in STREETS:
        grids: list[tuple[str, str, list[int]]] = []
        for n in range(1, count + 1):
            size = 2 if index in doubles else 1
            grids.append(
                (f"{prefix}-{n:03d}", f"{street_name}第{n}网格", list(range(number + 1, number + 1 + size)))
            )
            number, index = number + size, index + 1
        layout.append((street, street_name, grids))
    inactive = set(rng.sample(range(1, WORKERS + 1), INACTIVE))
    rows: list[tuple[str, ...]] = []
    for street, street_name, grids in layout:
        for position, (grid, grid_name, workers) in enumerate(grids):
            neighbour = grids[position + 1 if position + 1 < len(grids) else position - 1][2][0]
            for worker in workers:
                others = [w for w in workers if w != worker]
                backup = others[0] if others else neighbour
                rows.append(
                    (
                        street,
                        street_name,
                        grid,
                        grid_name,
                        f"GW-{worker:04d}",
                        _name(rng),
                        f"GW-{backup:04d}",
                        "false" if worker in inactive else "true",
                        f"app:gw-{worker:04d}",
                    )
                )
    return rows


def write_synthetic(path: Path, seed: int = SEED) -> None:
    """Write the synthetic directory as CSV (UTF-8, header ``directory_parse.HEADER``) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(synthetic_rows(seed))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else synthetic_path()
    write_synthetic(target)
    print(f"wrote {target}")
