"""Reading the joint inspection's directory files (CSV, UTF-8) into checked directories, every problem
at once.

Objects (检查对象), one row per market entity, under ``OBJECTS_HEADER``::

    uscc,name,type,industry,street,grid,risk_class,risk_as_of,last_inspected_at,last_result,last_inspectors
    91370212MA3QK7T84W,青岛海味餐饮有限公司,enterprise,H6210,ZHONGHAN,ZH-001,B,2026-06-30,2025-09-12,no_problem,SCJG-0001;SCJG-0002

``type`` is ``enterprise`` (企业), ``individual`` (个体工商户) or ``cooperative`` (农民专业合作社);
``industry`` a GB/T 4754 code (may be empty); ``risk_class`` one of ``sampling.yaml``; dates are
``YYYY-MM-DD``; the last inspection (day, result code of sampling.yaml's ``results``, officer ids
``;``-separated) is empty for an object never inspected. Officers (执法检查人员), under
``OFFICERS_HEADER``::

    officer_id,name,department,certificate_no,fields,active,conflicts
    SCJG-0001,王秀英,SCJG,370212010001,登记注册;广告,true,91370212MA3QK7T84W

``fields`` (执法领域) and ``conflicts`` (USCCs the officer must never inspect) are ``;``-separated.

Each problem is ``FILE:LINE: field: message`` (the column); a file with any problem raises
``DirectoryInvalid`` listing them all, and nothing is built from it. A USCC must have the right shape
and its check character (the stock file takes no legacy code), and appear once.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from workflows.directories.files import csv_rows, read_source
from workflows.directories.problems import DirectoryInvalid, Problem
from workflows.flows.joint_inspection.directory_checks import (
    ObjectEntry,
    ObjectsBuilder,
    ObjectsDirectory,
    OfficerEntry,
    OfficersBuilder,
    OfficersDirectory,
)

__all__ = [
    "OBJECTS_HEADER",
    "OFFICERS_HEADER",
    "DirectoryInvalid",
    "ObjectEntry",
    "ObjectsDirectory",
    "OfficerEntry",
    "OfficersDirectory",
    "Problem",
    "parse_objects",
    "parse_officers",
]

#: the columns of an objects file (any order; the last inspection's three may be empty, so may industry)
OBJECTS_HEADER = (
    "uscc",
    "name",
    "type",
    "industry",
    "street",
    "grid",
    "risk_class",
    "risk_as_of",
    "last_inspected_at",
    "last_result",
    "last_inspectors",
)
#: the columns of an officers file (any order; fields and conflicts may be empty)
OFFICERS_HEADER = ("officer_id", "name", "department", "certificate_no", "fields", "active", "conflicts")
SUFFIXES = (".csv",)


def parse_objects(
    path: Path, risk_classes: Collection[str], streets: Collection[str], results: Collection[str]
) -> ObjectsDirectory:
    """Read the objects file ``path``; ``risk_classes`` and ``results`` are the codes of sampling.yaml,
    ``streets`` those of organisation.yaml. Raises ``DirectoryInvalid`` with every problem found."""
    source = read_source(path, SUFFIXES)
    builder = ObjectsBuilder(str(path), frozenset(risk_classes), frozenset(streets), tuple(results))
    for line, row in csv_rows(source.text, OBJECTS_HEADER, builder):
        builder.add(line, row, OBJECTS_HEADER)
    return builder.finish(source.sha256)


def parse_officers(path: Path, departments: Collection[str]) -> OfficersDirectory:
    """Read the officers file ``path``; ``departments`` are the codes of organisation.yaml. Raises
    ``DirectoryInvalid`` with every problem found."""
    source = read_source(path, SUFFIXES)
    builder = OfficersBuilder(str(path), frozenset(departments))
    for line, row in csv_rows(source.text, OFFICERS_HEADER, builder):
        builder.add(line, row, OFFICERS_HEADER)
    return builder.finish(source.sha256)
