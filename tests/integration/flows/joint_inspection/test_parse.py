"""Reading the objects and officers files: every problem at once as FILE:LINE: field: message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.integration.flows.joint_inspection.conftest import WriteFile
from workflows.errors import BadInput
from workflows.flows.joint_inspection.directory_parse import (
    OBJECTS_HEADER,
    OFFICERS_HEADER,
    DirectoryInvalid,
    ObjectEntry,
    OfficerEntry,
    Problem,
    parse_objects,
    parse_officers,
)
from workflows.uscc import make

U1, U2, U3 = make("91370212MA0000001"), make("92370212MA0000002"), make("93370212MA0000003")
BAD_CHECK = "91370212MA0000004A"  # its check character is T


def problems_of(call: object) -> list[Problem]:
    assert callable(call)
    with pytest.raises(DirectoryInvalid) as raised:
        call()
    assert isinstance(raised.value, BadInput)
    for problem in raised.value.problems:  # the message lists every problem, as it is printed
        assert str(problem) in str(raised.value)
    return raised.value.problems


def where(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in problems]


def test_a_good_objects_file_becomes_the_directory_in_file_order(
    write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    path = write_objects(
        f"{U1},青岛海味餐饮有限公司,enterprise,H6210,ZHONGHAN,ZH-001,B,2026-06-30,2025-09-12,corrected,SCJG-0001; SCJG-0002",
        f" {U2} , 崂山区福顺水产店 ,individual,,BEIZHAI,BZ-007,A,2026-09-30,,,",
        ",,,,,,,,,,",  # an empty row is skipped
        f"{U3},青岛市崂山区晓望茶叶专业合作社,cooperative,C1530,WANGGEZHUANG,WGZ-012,D,2026-03-31,2026-01-05,no_problem,",
    )
    directory = parse_objects(path, risk_classes, streets, results)
    assert directory.objects == (
        ObjectEntry(
            U1, "青岛海味餐饮有限公司", "enterprise", "H6210", "ZHONGHAN", "ZH-001", "B",
            date(2026, 6, 30), date(2025, 9, 12), "corrected", ("SCJG-0001", "SCJG-0002"),
        ),
        ObjectEntry(U2, "崂山区福顺水产店", "individual", None, "BEIZHAI", "BZ-007", "A", date(2026, 9, 30)),
        ObjectEntry(
            U3, "青岛市崂山区晓望茶叶专业合作社", "cooperative", "C1530", "WANGGEZHUANG", "WGZ-012", "D",
            date(2026, 3, 31), date(2026, 1, 5), "no_problem", (),
        ),
    )  # fmt: skip
    assert len(directory.sha256) == 64


def test_every_problem_of_an_objects_file_is_reported_with_its_line_and_column(
    write_objects: WriteFile, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    good = "青岛海味餐饮有限公司,enterprise,H6210,ZHONGHAN,ZH-001,B,2026-06-30"
    path = write_objects(
        f"{U1},{good},,,",  # 2: fine
        f"{U1[:17]},{good},,,",  # 3: 17 characters
        f"{BAD_CHECK},{good},,,",  # 4: its check character fails
        f"{U1},{good},,,",  # 5: U1 again
        f"{U2},某店,shop,H6210,NOWHERE,ZH-001,E,2026-06-30,,,",  # 6
        f"{U3},某店,enterprise,FOOD,ZHONGHAN,ZH-001,B,2026/06/30,,,",  # 7
        f"{make('91370212MA0000010')},,enterprise,,ZHONGHAN, ,B,2026-06-30,,,",  # 8
        f"{make('91370212MA0000011')},{good},2026-02-30,no_problem,",  # 9
        f"{make('91370212MA0000012')},{good},2026-02-01,,SCJG-0001",  # 10
        f"{make('91370212MA0000013')},{good},,no_problem,SCJG-0001",  # 11
        f"{make('91370212MA0000014')},{good},2026-02-01,fine,",  # 12
        f"{make('91370212MA0000015')},{good},2026-02-01,no_problem",  # 13: 10 cells
        f"{make('91370212MA0000016')},{good},2026-02-01,no_problem,SCJG-0001;;SCJG-0002",  # 14
        f"{make('91370212MA0000017')},某店,enterprise,,ZHONGHAN,ZH 001,B,,,,",  # 15
        f"{make('91370212MA0000018')},{good},2026-02-01,no_problem,SCJG 2",  # 16
    )
    problems = problems_of(lambda: parse_objects(path, risk_classes, streets, results))
    assert where(problems) == [
        (3, "uscc"),
        (4, "uscc"),
        (5, "uscc"),
        (6, "type"),
        (6, "street"),
        (6, "risk_class"),
        (7, "industry"),
        (7, "risk_as_of"),
        (8, "name"),
        (8, "grid"),
        (9, "last_inspected_at"),
        (10, "last_result"),
        (11, "last_result"),
        (11, "last_inspectors"),
        (12, "last_result"),
        (13, "row"),
        (14, "last_inspectors"),
        (15, "grid"),
        (15, "risk_as_of"),
        (16, "last_inspectors"),
    ]
    text = [str(p) for p in problems]
    assert text[0] == f"{path}:3: uscc: '{U1[:17]}' is no USCC: a USCC has 18 characters, this one has 17"
    assert text[1] == (f"{path}:4: uscc: USCC {BAD_CHECK} fails its check character (expected T, found A)")
    assert text[2] == f"{path}:5: uscc: duplicate USCC {U1} (first on line 2)"
    assert (
        text[3] == f"{path}:6: type: unknown type 'shop'; the types are cooperative, enterprise, individual"
    )
    assert text[4] == (
        f"{path}:6: street: unknown street 'NOWHERE'; organisation.yaml has "
        "BEIZHAI, JINJIALING, SHAZIKOU, WANGGEZHUANG, ZHONGHAN"
    )
    assert text[5] == f"{path}:6: risk_class: unknown risk class 'E'; sampling.yaml has A, B, C, D"
    assert text[6] == f"{path}:7: industry: 'FOOD' is no GB/T 4754 code (F5212, 6513 …)"
    assert text[7] == f"{path}:7: risk_as_of: '2026/06/30' is not a date; write YYYY-MM-DD"
    assert text[8] == f"{path}:8: name: empty; it is required"
    assert text[10].startswith(f"{path}:9: last_inspected_at: '2026-02-30' is no day of the calendar")
    assert text[11] == f"{path}:10: last_result: empty; an inspection has a result"
    assert text[12] == f"{path}:11: last_result: a result without last_inspected_at"
    assert text[13] == f"{path}:11: last_inspectors: inspectors without last_inspected_at"
    assert text[14].startswith(f"{path}:12: last_result: unknown result 'fine'; the results are no_problem, ")
    assert text[15] == f"{path}:13: row: has 10 cells; the header has 11"
    assert text[16] == (
        f"{path}:14: last_inspectors: an empty item in 'SCJG-0001;;SCJG-0002'; separate items by ;"
    )
    assert text[17] == f"{path}:15: grid: 'ZH 001' has a space inside; an id is one word"
    assert text[18] == f"{path}:15: risk_as_of: empty; it is required"
    assert text[19] == f"{path}:16: last_inspectors: officer id 'SCJG 2' has a space inside"


def test_a_good_officers_file_becomes_the_directory(write_officers: WriteFile, departments: set[str]) -> None:
    path = write_officers(
        f"SCJG-0001,王芳,SCJG,370212010001,登记注册;广告,true,{U1};{U2}",
        "SCJG_SP-0001,李强,SCJG_SP,370212020001,,no,",
        "PTB-0001,张伟,PTB,370212170001,综合监管,1,",
    )
    assert parse_officers(path, departments).officers == (
        OfficerEntry("SCJG-0001", "王芳", "SCJG", "370212010001", ("登记注册", "广告"), True, (U1, U2)),
        OfficerEntry("SCJG_SP-0001", "李强", "SCJG_SP", "370212020001", (), False, ()),
        OfficerEntry("PTB-0001", "张伟", "PTB", "370212170001", ("综合监管",), True, ()),
    )


def test_every_problem_of_an_officers_file_is_reported_with_its_line_and_column(
    write_officers: WriteFile, departments: set[str]
) -> None:
    path = write_officers(
        f"SCJG-0001,王芳,SCJG,370212010001,登记注册,true,{U1}",  # 2: fine
        "SCJG-0001,李强,SCJGX,370212010002,登记注册,true,",  # 3
        "SCJG-0003,张伟,SCJG,370212010001,登记注册,true,",  # 4
        "SCJG-0004,赵敏,SCJG,370212010004,登记注册,maybe,",  # 5
        f"SCJG-0005,刘洋,SCJG,370212010005,登记注册,true,{U1[:17]};{BAD_CHECK}",  # 6
        "SCJG-0006,,SCJG,,登记注册,true,",  # 7
        "SCJG-0007,陈静,SCJG,370212010007,广告;广告,true,",  # 8
        "SCJG 0008,杨磊,SCJG,370212010008,广告,true,",  # 9
    )
    problems = problems_of(lambda: parse_officers(path, departments))
    assert where(problems) == [
        (3, "officer_id"),
        (3, "department"),
        (4, "certificate_no"),
        (5, "active"),
        (6, "conflicts"),
        (6, "conflicts"),
        (7, "name"),
        (7, "certificate_no"),
        (8, "fields"),
        (9, "officer_id"),
    ]
    text = [str(p) for p in problems]
    assert text[0] == f"{path}:3: officer_id: duplicate officer id SCJG-0001 (first on line 2)"
    assert text[1].startswith(
        f"{path}:3: department: unknown department 'SCJGX'; organisation.yaml has CGJ, "
    )
    assert text[2] == f"{path}:4: certificate_no: duplicate certificate number 370212010001 (first on line 2)"
    assert text[3] == f"{path}:5: active: 'maybe' is not a boolean; write true or false (1/0, yes/no)"
    assert (
        text[4] == f"{path}:6: conflicts: '{U1[:17]}' is no USCC: a USCC has 18 characters, this one has 17"
    )
    assert text[5] == f"{path}:6: conflicts: USCC {BAD_CHECK} fails its check character (expected T, found A)"
    assert text[8] == f"{path}:8: fields: '广告' is listed twice"


def test_a_bad_header_names_the_missing_unknown_and_doubled_columns(
    write_objects: WriteFile,
    write_officers: WriteFile,
    risk_classes: set[str],
    results: list[str],
    departments: set[str],
) -> None:
    objects = write_objects(
        f"{U1},某店,enterprise,,ZHONGHAN,ZH-001,B,2026-06-30,,,,x",
        header="uscc,name,type,industry,street,grid,risk,risk_as_of,last_inspected_at,last_result,last_inspectors,phone",
    )
    problems = problems_of(lambda: parse_objects(objects, risk_classes, {"ZHONGHAN"}, results))
    assert [str(p) for p in problems] == [
        f"{objects}:1: header: missing columns: risk_class; the header is {','.join(OBJECTS_HEADER)}",
        f"{objects}:1: header: unknown columns: risk, phone; the header is {','.join(OBJECTS_HEADER)}",
    ]
    officers = write_officers("a,b,SCJG,c,,true,,", header=",".join([*OFFICERS_HEADER, "name"]))
    [twice] = problems_of(lambda: parse_officers(officers, departments))
    assert str(twice).startswith(f"{officers}:1: header: twice: name;")


def test_columns_in_another_order_and_a_bom_are_fine(
    tmp_path: Path, risk_classes: set[str], streets: set[str], results: list[str]
) -> None:
    path = tmp_path / "excel.csv"
    text = (
        "risk_class,uscc,last_result,name,type,street,grid,industry,risk_as_of,last_inspectors,last_inspected_at\n"
        f"C,{U1},,某公司,enterprise,SHAZIKOU,SZK-001,F5212,2026-06-30,,\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [entry] = parse_objects(path, risk_classes, streets, results).objects
    assert entry == ObjectEntry(
        U1, "某公司", "enterprise", "F5212", "SHAZIKOU", "SZK-001", "C", date(2026, 6, 30)
    )


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("objects.txt", b"uscc\n", ":1: file: unknown format '.txt'; give a .csv"),
        (
            "gbk.csv",
            "uscc\n中韩".encode("gbk"),
            ":2: file: not UTF-8 text (byte 0xd6); save the file as UTF-8",
        ),
        ("empty.csv", b"", ":1: header: the file is empty; its first line is the header uscc,name,"),
        ("header.csv", (",".join(OBJECTS_HEADER) + "\n").encode(), ":1: objects: the file lists no objects"),
    ],
)
def test_an_objects_file_that_is_no_directory_says_why(
    tmp_path: Path,
    risk_classes: set[str],
    streets: set[str],
    results: list[str],
    name: str,
    content: bytes,
    problem: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    [found] = problems_of(lambda: parse_objects(path, risk_classes, streets, results))
    assert str(found).startswith(f"{path}{problem}")


def test_an_officers_file_without_officers_or_missing_is_one_problem(
    write_officers: WriteFile, departments: set[str], tmp_path: Path
) -> None:
    [empty] = problems_of(lambda: parse_officers(write_officers(), departments))
    assert empty.message == "the file lists no officers (an import replaces the whole directory)"
    [missing] = problems_of(lambda: parse_officers(tmp_path / "nowhere.csv", departments))
    assert str(missing) == f"{tmp_path / 'nowhere.csv'}:1: file: cannot be read: No such file or directory"
