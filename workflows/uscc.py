"""统一社会信用代码 (USCC, GB 32100-2015): 18 characters; the 18th is a check character.

A malformed code (length, characters) is rejected; a failed check character is only a warning, since
real registries hold legacy codes that fail it.
"""

from __future__ import annotations

from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CHARACTERS = frozenset(ALPHABET)


def check_character(first17: str) -> str:
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"check_character takes the first 17 characters, not {len(first17)}")
    total = sum(map(mul, map(VALUE.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def malformed(code: str) -> str | None:
    """Why ``code`` is not a USCC at all, or None when its shape is right."""
    if len(code) != 18:
        return f"a USCC has 18 characters, this one has {len(code)}"
    if _CHARACTERS.issuperset(code):
        return None
    bad = "".join(sorted(set(code) - _CHARACTERS))
    return f"a USCC uses only 0-9 and A-Y without I, O, S, V, Z; found {bad!r}"


def check_warning(code: str) -> str | None:
    """A warning when the check character is wrong (the code is still accepted)."""
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"USCC {code} fails its check character (expected {expected}, found {code[17]})"
    return None


def division(code: str) -> str:
    """The administrative division code (positions 3-8), e.g. 370212 for Laoshan."""
    return code[2:8]


def make(prefix17: str) -> str:
    """Complete 17 characters with their check character (for synthetic data)."""
    return prefix17 + check_character(prefix17)
