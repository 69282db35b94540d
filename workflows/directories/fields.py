"""The checks of one field of a directory file, each recording its problem and carrying on.

A reader hands every field to a ``Checker`` as a ``Cell`` (value as written, line, how a problem names
the field: a CSV column or a YAML path); each check answers the usable value or None, having recorded
why not, so that one pass over a file reports every problem. ``invalid()`` is the error with them all,
in line order.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from typing import NamedTuple

from workflows import uscc as codes
from workflows.directories.problems import DirectoryInvalid, Problem

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Cell(NamedTuple):
    """One field as written: its value, its line and how a problem names it (column or YAML path)."""

    value: object
    line: int
    field: str


class Checker:
    """The problems of one file (``file`` names it in each), and the checks that find them."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, line: int, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, field, message))

    def invalid(self) -> DirectoryInvalid:
        """The error listing every problem found, in line order (a line's in the order found)."""
        return DirectoryInvalid(self.file, sorted(self.problems, key=lambda p: p.line))

    def text(self, cell: Cell, limit: int, *, required: bool = True) -> str | None:
        """The stripped text of ``cell``, or None (with a problem if it was required or wrong)."""
        value = cell.value
        if type(value) is str:  # the common case, first
            text = value.strip()
            if text and len(text) <= limit:
                return text
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(cell.line, cell.field, "empty; it is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem(cell.line, cell.field, f"must be text, not {type(value).__name__}")
            return None
        text = str(value).strip()
        if len(text) > limit:
            self.problem(cell.line, cell.field, f"longer than {limit} characters")
            return None
        return text

    def word(self, cell: Cell, limit: int, *, required: bool = True) -> str | None:
        """Text without spaces inside (an id, a code, a certificate number)."""
        text = self.text(cell, limit, required=required)
        if text is not None and len(text.split()) > 1:
            self.problem(cell.line, cell.field, f"{text!r} has a space inside; an id is one word")
            return None
        return text

    def boolean(self, cell: Cell) -> bool | None:
        value = cell.value
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower() if isinstance(value, str | int) else None
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        if word == "" or value is None:
            self.problem(cell.line, cell.field, "empty; write true or false")
        else:
            self.problem(
                cell.line, cell.field, f"{value!r} is not a boolean; write true or false (1/0, yes/no)"
            )
        return None

    def date(self, cell: Cell, *, required: bool = True) -> date | None:
        """An ISO 8601 calendar date, ``YYYY-MM-DD``."""
        text = self.text(cell, 100, required=required)
        if text is None:
            return None
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError as exc:
                self.problem(cell.line, cell.field, f"{text!r} is no day of the calendar ({exc})")
                return None
        self.problem(cell.line, cell.field, f"{text!r} is not a date; write YYYY-MM-DD")
        return None

    def uscc(self, cell: Cell, *, required: bool = True) -> str | None:
        """A USCC with the right shape and check character (a stock file takes no legacy code)."""
        text = self.text(cell, 100, required=required)
        return None if text is None else self.uscc_code(text, cell)

    def uscc_code(self, text: str, cell: Cell) -> str | None:
        """``text`` if it is a valid USCC, else None with the problem."""
        malformed = codes.malformed(text)
        if malformed is not None:
            self.problem(cell.line, cell.field, f"{text!r} is no USCC: {malformed}")
            return None
        wrong = codes.check_warning(text)
        if wrong is not None:
            self.problem(cell.line, cell.field, wrong)
            return None
        return text

    def member(self, cell: Cell, known: Collection[str], what: str, known_as: str) -> str | None:
        """A code of ``known``: else ``unknown WHAT 'X'; KNOWN_AS A, B, C`` (``known_as``:
        "sampling.yaml has")."""
        text = self.text(cell, 64)
        if text is None:
            return None
        if text not in known:
            listed = ", ".join(sorted(known)) or "(none)"
            self.problem(cell.line, cell.field, f"unknown {what} {text!r}; {known_as} {listed}")
            return None
        return text

    def once(self, value: str | None, cell: Cell, seen: dict[str, int], what: str) -> str | None:
        """``value``, unless an earlier line of ``seen`` (value → its first line) has it: then None,
        with ``duplicate WHAT VALUE (first on line N)``."""
        if value is None:
            return None
        first = seen.setdefault(value, cell.line)
        if first != cell.line:
            self.problem(cell.line, cell.field, f"duplicate {what} {value} (first on line {first})")
            return None
        return value

    def items(self, cell: Cell, limit: int, separator: str = ";") -> list[str] | None:
        """A list written ``a;b;c`` (empty: none): each item stripped, none empty, none twice, each at
        most ``limit`` characters. None, with the problems, when an item is wrong."""
        value = cell.value
        if value is None or (isinstance(value, str) and not value.strip()):
            return []
        if not isinstance(value, str):
            self.problem(cell.line, cell.field, f"must be text, not {type(value).__name__}")
            return None
        found: list[str] = []
        good = True
        for raw in value.split(separator):
            item = raw.strip()
            if not item:
                self.problem(
                    cell.line, cell.field, f"an empty item in {value!r}; separate items by {separator}"
                )
                good = False
            elif len(item) > limit:
                self.problem(cell.line, cell.field, f"item {item[:20]!r}… is longer than {limit} characters")
                good = False
            elif item in found:
                self.problem(cell.line, cell.field, f"{item!r} is listed twice")
                good = False
            else:
                found.append(item)
        return found if good else None
