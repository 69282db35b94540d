"""JSON text as the database receives it."""

from __future__ import annotations

import json
from typing import Any


def utf8_json(value: Any, **options: Any) -> str:
    """``value`` as JSON text in UTF-8 (a Chinese character 3 bytes, not a 6-byte ``\\uXXXX``): half
    the bytes of a Chinese context to send, store and parse (the facets' generated columns parse it on
    every write). A text holding a lone surrogate, which UTF-8 cannot carry, keeps its escapes."""
    text = json.dumps(value, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, **options)
    return text
