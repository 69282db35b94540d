"""The building blocks of every event's ``data`` model: strict models, USCCs, bounded text.

Every model forbids unknown fields and takes only timezone-aware times. Each flow plug-in declares
the models of the event types it accepts (``EventRoute``); ``GET /events/schemas`` publishes them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from workflows import uscc


def _uscc(value: str) -> str:
    problem = uscc.malformed(value)
    if problem:
        raise ValueError(problem)
    return value


Uscc = Annotated[str, Field(description="统一社会信用代码, 18 characters"), AfterValidator(_uscc)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
