"""What ``POST /events`` reads before the intake sees an event: the body within its size limit, JSON
within its nesting limit, and the CloudEvents HTTP binding's two modes — structured (the event is the
JSON body) and binary (``ce-*`` headers carry the attributes, the body is ``data``).

Each refusal is a ``Refused`` with the HTTP status, a code and a message naming what to fix; nothing
of a refused request is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

CE_PREFIX = "ce-"
#: CloudEvents attribute names: lower-case letters and digits, at most 20 (spec 1.0, "Attribute Naming")
_ATTRIBUTE = re.compile(r"^[a-z0-9]{1,20}$")


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it passes ``limit`` bytes (by its Content-Length up front, else
    while it streams in: a body is never read whole before it is known to fit)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "too_large", f"the body has {int(declared):,} bytes; at most {limit:,} are taken")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "too_large", f"the body passes {limit:,} bytes, the most taken")
        chunks.append(chunk)
    return b"".join(chunks)


#: a JSON string (an escape takes the byte after the backslash, whatever it is), or an unterminated
#: one to the end of the text: every match attempt succeeds at its first ``"``, so the scan is linear
#: whatever the text (a pattern that could fail would be retried at every later quote)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)
#: every byte but the four brackets, deleted by ``bytes.translate``
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(text: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it:
    a JSON parser recursing into a hostile depth is what this guards. The strings are cut out by one
    regular expression (an unterminated one runs to the end), the brackets left are counted: a
    batch's body of 50 KB takes a fraction of a millisecond, not the 5 ms of a loop over its bytes."""
    outside = _STRING.sub(b"", text)
    depth = deepest = 0
    for byte in outside.translate(None, _NOT_BRACKETS):
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:  # ] }
            depth -= 1
    return deepest


def parse_json(body: bytes, max_depth: int, what: str = "body") -> Any:
    """The JSON of ``body`` (``null`` when empty); 422 when it is not JSON or nests deeper than
    ``max_depth`` (an event wraps its data: the limit counts from the outermost bracket)."""
    depth = nesting(body)
    if depth > max_depth:
        raise Refused(422, "too_deep", f"the {what} nests {depth} levels deep; at most {max_depth} are taken")
    try:
        return json.loads(body or b"null", parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, and NaN or Infinity (below)
        raise Refused(422, "bad_json", f"{what} is not JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity``, which Python's parser takes and JSON (RFC 8259) does not:
    refused, or they would reach the database as ``null`` (or be refused by PostgreSQL's ``json``)."""
    raise ValueError(f"{name} is not a JSON number (RFC 8259)")


def _header_text(value: str) -> str:
    """A header value as text: percent-decoded (the binding's encoding of non-ASCII), and raw UTF-8
    (which some clients send undecoded) recovered from the latin-1 the server decoded it as."""
    try:
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return unquote(value)


def is_binary(headers: Iterable[str]) -> bool:
    return "ce-specversion" in headers


def binary_event(
    headers: Iterable[tuple[str, str]], media: str, body: bytes, max_depth: int
) -> dict[str, Any]:
    """The event of a binary-mode request: each ``ce-<name>`` header an attribute, the body its data
    (JSON: ``application/json``, a ``+json`` type, or no Content-Type at all)."""
    event: dict[str, Any] = {}
    for name, value in headers:
        if not name.startswith(CE_PREFIX):
            continue
        attribute = name[len(CE_PREFIX) :]
        if not _ATTRIBUTE.match(attribute):
            raise Refused(
                422, "bad_event", f"header {name}: an attribute name is 1-20 lower-case letters or digits"
            )
        if attribute in event:
            raise Refused(422, "bad_event", f"header {name}: given twice")
        if attribute == "data":
            raise Refused(422, "bad_event", "header ce-data: in binary mode the body is the data")
        event[attribute] = _header_text(value)
    if media and media != "application/json" and not media.endswith("+json"):
        raise Refused(
            415,
            "unsupported_media_type",
            f"Content-Type {media!r}: binary-mode data is JSON (application/json or a +json type)",
        )
    if media:
        event["datacontenttype"] = media
    event["data"] = parse_json(body, max_depth, "data") if body else None
    return event
