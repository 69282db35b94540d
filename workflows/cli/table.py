"""Plain-text tables aligned by display width: a Chinese character takes two terminal columns."""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Terminal columns of ``text``: wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clip(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` display columns."""
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > columns:
            break
        out.append(ch)
        used += w
    return "".join(out)


def left(text: str, columns: int) -> str:
    """``text`` clipped and padded on the right to exactly ``columns`` display columns."""
    cut = clip(text, columns)
    return cut + " " * (columns - width(cut))


def right(text: str, columns: int) -> str:
    cut = clip(text, columns)
    return " " * (columns - width(cut)) + cut
