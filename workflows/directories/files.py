"""Reading a directory file: its bytes as UTF-8 text (with their SHA-256), and a CSV file's rows under
a known header, every problem of the file and the header recorded on the way."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workflows.directories.fields import Checker
from workflows.directories.problems import DirectoryInvalid, Problem


@dataclass(frozen=True)
class Source:
    """A directory file read whole: its text (a BOM dropped) and the SHA-256 of its bytes."""

    text: str
    sha256: str


def read_source(path: Path, suffixes: Sequence[str]) -> Source:
    """The text of ``path``, whose suffix must be one of ``suffixes`` (``.csv``…); raises
    ``DirectoryInvalid`` for another suffix, a file that cannot be read or is not UTF-8."""
    where = str(path)
    if path.suffix.lower() not in suffixes:
        formats = " or ".join(filter(None, (", ".join(suffixes[:-1]), suffixes[-1])))
        message = f"unknown format {path.suffix!r}; give a {formats}"
        raise DirectoryInvalid(where, [Problem(where, 1, "file", message)])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DirectoryInvalid(where, [Problem(where, 1, "file", f"cannot be read: {exc.strerror}")]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        raise DirectoryInvalid(where, [Problem(where, line, "file", message)]) from exc
    return Source(text, hashlib.sha256(raw).hexdigest())


def csv_rows(text: str, header: Sequence[str], checker: Checker) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty row of the CSV ``text`` as (line, cells in the order of ``header``). The file's
    columns may come in any order; a header missing a column, naming an unknown one or one twice is a
    problem (and no row follows), so is a row whose number of cells is not the header's (skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    first = next(reader, None)
    expected = ",".join(header)
    if first is None:
        checker.problem(1, "header", f"the file is empty; its first line is the header {expected}")
        return
    columns = [name.strip() for name in first]
    missing = [name for name in header if name not in columns]
    unknown = [name for name in columns if name not in header]
    twice = sorted({name for name in columns if name in header and columns.count(name) > 1})
    for label, names in (("missing columns", missing), ("unknown columns", unknown), ("twice", twice)):
        if names:
            checker.problem(1, "header", f"{label}: {', '.join(names)}; the header is {expected}")
    if missing or unknown or twice:
        return
    order = [columns.index(name) for name in header]
    in_order = order == list(range(len(header)))
    width = len(columns)
    for row in reader:
        if len(row) != width:
            if any(cell.strip() for cell in row):
                checker.problem(reader.line_num, "row", f"has {len(row)} cells; the header has {width}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, row if in_order else [row[i] for i in order]
