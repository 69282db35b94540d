"""Where timers get their deadlines: the rules, looked up by flow, state and timer name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from workflows.errors import YunshangError


class MissingDeadline(YunshangError):
    code = "missing_deadline"


class DeadlineSource(Protocol):
    @property
    def version(self) -> str | None: ...

    def deadline(self, flow: str, state: str, timer: str) -> str:
        """The duration text (``48h``, ``5 working days``) of a timer."""
        ...


class StaticDeadlines:
    """Deadlines from a mapping ``{"flow.state.timer": "48h"}`` (tests, benchmarks)."""

    def __init__(self, table: Mapping[str, str], version: str | None = None) -> None:
        self._table = dict(table)
        self._version = version

    @property
    def version(self) -> str | None:
        return self._version

    def deadline(self, flow: str, state: str, timer: str) -> str:
        key = f"{flow}.{state}.{timer}"
        try:
            return self._table[key]
        except KeyError:
            raise MissingDeadline(f"no deadline rule for {key}; add it to the deadline rules") from None
