"""Reading a grid directory file: CSV and YAML, every problem at once as FILE:LINE: field: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.flows.grid_check.conftest import WriteFile
from workflows.errors import BadInput
from workflows.flows.grid_check.directory_parse import (
    Directory,
    DirectoryInvalid,
    GridEntry,
    Problem,
    StreetEntry,
    WorkerEntry,
    parse_directory,
)

ZH = "ZHONGHAN,中韩街道"


def problems_of(path: Path, streets: dict[str, str]) -> list[Problem]:
    with pytest.raises(DirectoryInvalid) as raised:
        parse_directory(path, streets)
    assert isinstance(raised.value, BadInput)
    for problem in raised.value.problems:  # the message lists every problem, as it is printed
        assert str(problem) in str(raised.value)
    return raised.value.problems


def where(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in problems]


def test_a_good_csv_becomes_the_directory_in_file_order(
    write_csv: WriteFile, streets: dict[str, str]
) -> None:
    path = write_csv(
        f"{ZH},ZH-002,中韩街道第2网格,GW-0002,李强,GW-0001,true,app:gw-0002",
        f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,,false,app:gw-0001",
        f"{ZH},ZH-001,中韩街道第1网格,GW-0003, 张伟 ,GW-0002,YES,app:gw-0003",
        "SHAZIKOU,沙子口街道,SZK-001,沙子口街道第1网格,GW-0004,赵敏,GW-0003,0,app:gw-0004",
        ",,,,,,,,",  # an empty row is skipped
    )
    directory = parse_directory(path, streets)
    assert directory == Directory(
        streets=(StreetEntry("ZHONGHAN", "中韩街道"), StreetEntry("SHAZIKOU", "沙子口街道")),
        grids=(
            GridEntry("ZH-002", "中韩街道第2网格", "ZHONGHAN"),
            GridEntry("ZH-001", "中韩街道第1网格", "ZHONGHAN"),
            GridEntry("SZK-001", "沙子口街道第1网格", "SHAZIKOU"),
        ),
        workers=(
            WorkerEntry("GW-0002", "李强", "ZH-002", "GW-0001", True, "app:gw-0002"),
            WorkerEntry("GW-0001", "王芳", "ZH-001", None, False, "app:gw-0001"),
            WorkerEntry("GW-0003", "张伟", "ZH-001", "GW-0002", True, "app:gw-0003"),
            WorkerEntry("GW-0004", "赵敏", "SZK-001", "GW-0003", False, "app:gw-0004"),
        ),
        sha256=directory.sha256,
    )
    assert len(directory.sha256) == 64


def test_every_problem_of_a_csv_is_reported_with_its_line_and_column(
    write_csv: WriteFile, streets: dict[str, str]
) -> None:
    path = write_csv(
        f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,GW-0002,true,app:gw-0001",  # 2: fine
        f"{ZH},ZH-001,中韩街道第1网格,GW-0002,李强,,true,app:gw-0002",  # 3: fine
        "NOWHERE,某街道,NW-001,某网格,GW-0003,张伟,,true,app:gw-0003",  # 4
        f"{ZH},ZH-002,中韩街道第2网格,GW-0001,赵敏,,true,app:gw-0001b",  # 5
        "SHAZIKOU,沙子口街道,ZH-001,中韩街道第1网格,GW-0004,刘洋,,true,app:gw-0004",  # 6
        f"{ZH},ZH-001,中韩一号网格,GW-0005,陈静,,true,app:gw-0005",  # 7
        f"{ZH},ZH-003,中韩街道第3网格,GW-0006,杨磊,GW-9999,true,app:gw-0006",  # 8
        f"{ZH},ZH-003,中韩街道第3网格,GW-0007,黄娟,GW-0007,true,app:gw-0007",  # 9
        f"{ZH},ZH-004,中韩街道第4网格,GW-0008,周杰,,maybe,app:gw-0008",  # 10
        f"{ZH},ZH-004,中韩街道第4网格,GW-0009,,,true,",  # 11
        "ZHONGHAN,中韩路街道,ZH-005,中韩街道第5网格,GW-0010,吴明,,true,app:gw-0010",  # 12
        f"{ZH},ZH-005,中韩街道第5网格,GW-0011,吴明,,true",  # 13
        f"{ZH},ZH-006,中韩街道第6网格,,孙丽,,,app:gw-0012",  # 14
    )
    problems = problems_of(path, streets)
    assert where(problems) == [
        (4, "street"),
        (5, "worker_id"),
        (6, "grid"),
        (7, "grid_name"),
        (8, "backup_worker"),
        (9, "backup_worker"),
        (10, "active"),
        (11, "worker_name"),
        (11, "recipient"),
        (12, "street_name"),
        (13, "row"),
        (14, "worker_id"),
        (14, "active"),
    ]
    text = [str(p) for p in problems]
    assert text[0] == (
        f"{path}:4: street: unknown street 'NOWHERE'; organisation.yaml has "
        "BEIZHAI, JINJIALING, SHAZIKOU, WANGGEZHUANG, ZHONGHAN"
    )
    assert text[1] == f"{path}:5: worker_id: duplicate worker id GW-0001 (first on line 2)"
    assert text[2] == f"{path}:6: grid: grid ZH-001 is in street ZHONGHAN on line 2, SHAZIKOU here"
    assert (
        text[3]
        == f"{path}:7: grid_name: grid ZH-001 is named 中韩街道第1网格 on line 2 and 中韩一号网格 here"
    )
    assert "unknown backup worker 'GW-9999'" in text[4]
    assert "GW-0007 cannot be their own backup" in text[5]
    assert text[6] == f"{path}:10: active: 'maybe' is not a boolean; write true or false (1/0, yes/no)"
    assert text[7].endswith("worker_name: empty; it is required")
    assert "street ZHONGHAN is named 中韩街道 on line 2 and 中韩路街道 here" in text[9]
    assert text[10] == f"{path}:13: row: has 8 cells; the header has 9"


def test_a_bad_header_names_the_missing_and_unknown_columns(
    write_csv: WriteFile, streets: dict[str, str]
) -> None:
    header = "street,street_name,grid,grid_name,worker,worker_name,backup_worker,active,recipient,phone"
    path = write_csv(f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,,true,app:gw-0001,123", header=header)
    problems = problems_of(path, streets)
    assert where(problems) == [(1, "header"), (1, "header")]
    assert problems[0].message.startswith("missing columns: worker_id;")
    assert problems[1].message.startswith("unknown columns: worker, phone;")


def test_a_header_in_another_order_is_fine_and_a_bom_is_ignored(
    tmp_path: Path, streets: dict[str, str]
) -> None:
    path = tmp_path / "excel.csv"
    text = (
        "worker_id,worker_name,grid,grid_name,street,street_name,active,recipient,backup_worker\n"
        "GW-0001,王芳,ZH-001,中韩街道第1网格,ZHONGHAN,中韩街道,1,app:gw-0001,\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [worker] = parse_directory(path, streets).workers
    assert worker == WorkerEntry("GW-0001", "王芳", "ZH-001", None, True, "app:gw-0001")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("grids.txt", b"street\n", ":1: file: unknown format '.txt'; give a .csv, .yaml or .yml"),
        (
            "gbk.csv",
            "street\n中韩".encode("gbk"),
            ":2: file: not UTF-8 text (byte 0xd6); save the file as UTF-8",
        ),
        ("empty.csv", b"", ":1: header: the file is empty"),
        (
            "only-header.csv",
            b"street,street_name,grid,grid_name,worker_id,worker_name,backup_worker,active,recipient\n",
            ":1: grids: the file lists no grids",
        ),
        ("empty.yaml", b"streets: []\n", ":1: grids: the file lists no grids"),
        ("list.yaml", b"- a\n", ":1: streets: the file must be a mapping with `streets:`"),
        ("syntax.yaml", b"streets:\n  - code: [ZHONGHAN\n", ":3: yaml: YAML syntax error"),
    ],
)
def test_a_file_that_is_no_directory_says_why(
    tmp_path: Path, streets: dict[str, str], name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [found] = problems_of(path, streets)
    assert str(found).startswith(f"{path}{problem}")


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path, streets: dict[str, str]) -> None:
    [found] = problems_of(tmp_path / "nowhere.csv", streets)
    assert str(found) == f"{tmp_path / 'nowhere.csv'}:1: file: cannot be read: No such file or directory"


GOOD_YAML = """\
streets:
  - code: ZHONGHAN
    name: 中韩街道
    grids:
      - code: ZH-001
        name: 中韩街道第1网格
        workers:
          - {id: GW-0001, name: 王芳, backup: GW-0002, active: true, recipient: "app:gw-0001"}
          - id: GW-0002
            name: 李强
            active: false
            recipient: "app:gw-0002"
      - code: ZH-002
        name: 中韩街道第2网格
  - code: BEIZHAI
    name: 北宅街道
    grids:
      - code: BZ-001
        name: 北宅街道第1网格
        workers:
          - {id: 1001, name: 刘洋, backup: GW-0001, active: yes, recipient: "app:gw-1001"}
"""


def test_a_good_yaml_becomes_the_same_directory_as_its_csv(tmp_path: Path, streets: dict[str, str]) -> None:
    path = tmp_path / "grids.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    directory = parse_directory(path, streets)
    assert directory.streets == (StreetEntry("ZHONGHAN", "中韩街道"), StreetEntry("BEIZHAI", "北宅街道"))
    assert [g.code for g in directory.grids] == ["ZH-001", "ZH-002", "BZ-001"]  # ZH-002 has no worker
    assert directory.workers == (
        WorkerEntry("GW-0001", "王芳", "ZH-001", "GW-0002", True, "app:gw-0001"),
        WorkerEntry("GW-0002", "李强", "ZH-001", None, False, "app:gw-0002"),
        WorkerEntry("1001", "刘洋", "BZ-001", "GW-0001", True, "app:gw-1001"),
    )


BAD_YAML = """\
streets:
  - code: ZHONGHAN
    name: 中韩街道
    grids:
      - code: ZH-001
        name: 中韩街道第1网格
        workers:
          - {id: GW-0001, name: 王芳, backup: GW-0001, active: true, recipient: "app:gw-0001"}
          - {id: GW-0002, name: 李强, active: maybe, recipient: "app:gw-0002", phone: "123"}
      - code: ZH-001
        name: 中韩街道第1网格
        workers:
          - {id: GW-0001, name: 张伟, active: true, recipient: "app:gw-0003"}
          - {id: GW-0004, active: true, recipient: "app:gw-0004", backup: GW-0404}
  - code: NOWHERE
    name: 某街道
    name: 另一个名字
    grids: none
  - code: ZHONGHAN
    name: 中韩街道
"""


def test_every_problem_of_a_yaml_is_reported_with_its_line_and_path(
    tmp_path: Path, streets: dict[str, str]
) -> None:
    path = tmp_path / "grids.yml"
    path.write_text(BAD_YAML, encoding="utf-8")
    problems = problems_of(path, streets)
    workers = "streets[0].grids[{}].workers[{}]"
    assert where(problems) == [
        (8, workers.format(0, 0) + ".backup"),
        (9, workers.format(0, 1) + ".phone"),
        (9, workers.format(0, 1) + ".active"),
        (10, "streets[0].grids[1].code"),
        (13, workers.format(1, 0) + ".id"),
        (14, workers.format(1, 1) + ".name"),
        (14, workers.format(1, 1) + ".backup"),
        (15, "streets[1].code"),
        (17, "streets[1].name"),
        (18, "streets[1].grids"),
        (19, "streets[2].code"),
    ]
    text = {p.field: p.message for p in problems}
    assert text["streets[0].grids[1].code"] == "duplicate grid code ZH-001 (first on line 5)"
    assert text[workers.format(1, 0) + ".id"] == "duplicate worker id GW-0001 (first on line 8)"
    assert text[workers.format(0, 1) + ".phone"].startswith("unknown field; known: id, name, backup")
    assert text[workers.format(1, 1) + ".name"] == "empty; it is required"
    assert text["streets[1].name"] == "written twice (first on line 16)"
    assert text["streets[1].grids"] == "must be a list of grids"
    assert text["streets[2].code"] == "street ZHONGHAN is listed twice (first on line 2)"
