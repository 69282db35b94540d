"""``bodies.nesting``: the depth guard of ``POST /events`` gives what a scan of every byte gives."""

from __future__ import annotations

import json
import random
import time

from workflows.api.bodies import nesting


def by_every_byte(text: bytes) -> int:
    """The reference: one byte at a time, strings skipped (a backslash in a string escapes the next
    byte; an unterminated string runs to the end)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


CASES = [
    b"",
    b"null",
    b"[]",
    b"[[[]]]",
    b'{"a": [1, {"b": "[[[["}]}',
    b'{"a": "\\"[[[", "b": [[]]}',
    b'["\\\\", [[]]]',  # an escaped backslash, then the string ends
    b'["unterminated [[[[',
    b'["ends in a backslash \\',
    b'\\"[[]]',  # a backslash outside a string is no escape
    b"]]][[",
    b'[{"x": "\n[", "y": "\\\n"}]',
    b'"' + b'\\"' * 1000 + b"[[[",
    json.dumps([{"data": {"name": "青岛崂山商行", "list": [[1], {"k": "]}"}]}}] * 50).encode(),
    json.dumps([{"name": "崂山"}], ensure_ascii=False).encode(),
]


def test_nesting_is_the_depth_a_scan_of_every_byte_finds() -> None:
    for text in CASES:
        assert nesting(text) == by_every_byte(text), text[:80]
    rng = random.Random(12)
    alphabet = b'[]{}"\\ a,:\n\xe5'
    for _ in range(3000):
        text = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert nesting(text) == by_every_byte(text), text


def test_a_hostile_body_of_quotes_after_an_open_string_is_scanned_in_one_pass() -> None:
    """An unterminated string followed by a megabyte of escaped quotes (and a last backslash): a
    pattern that may fail would be retried at each quote (quadratic: hours); this one takes one pass."""
    text = b'["' + b'\\"' * 500_000 + b"\\"
    started = time.process_time()
    assert nesting(text) == 1
    assert time.process_time() - started < 5  # one pass is milliseconds; a quadratic scan never ends
