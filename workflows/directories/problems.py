"""The problems of a directory file, and the error that carries them all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workflows.errors import BadInput


@dataclass(frozen=True)
class Problem:
    """One problem of a directory file: ``FILE:LINE: field: message`` (line 1-based)."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class DirectoryInvalid(BadInput):
    """A directory file with problems; nothing was imported from it. ``problems`` lists them all."""

    code = "directory_invalid"

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        heading = f"{source}: {count} problem{'s' * (count != 1)}, nothing imported"
        super().__init__("\n".join([heading, *map(str, self.problems)]))
