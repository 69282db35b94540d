"""The draw's only source of chance: SHA-256 in counter mode, specified here so that anyone can re-run it.

Block ``i`` (``i`` = 0, 1, 2, …) is ``SHA-256(seed ‖ i)`` with ``i`` as 8 bytes big-endian; each block
gives four 64-bit words, big-endian, in order. ``below(n)`` takes words until one is under the largest
multiple of ``n`` that fits in 64 bits (rejection sampling: no modulo bias) and answers it modulo ``n``.
``sample`` is a partial Fisher–Yates shuffle over ``range(population)`` that keeps only the swapped
positions, so drawing 190 of 5,000,000 touches 190 entries, not 5,000,000.

Never Python's ``random``: its algorithm may change between versions, and nobody outside Python can
re-run it from a description.
"""

from __future__ import annotations

import hashlib

_WORDS_PER_BLOCK = 4
_SPAN = 1 << 64


class Stream:
    """A deterministic stream of 64-bit words from ``seed``; ``words`` counts those taken so far."""

    def __init__(self, seed: bytes, *, skip: int = 0) -> None:
        self.seed = seed
        self.words = 0
        self._block: list[int] = []
        self._counter = 0
        for _ in range(skip):  # resume where an earlier draw stopped (a replacement)
            self.word()

    def word(self) -> int:
        if not self._block:
            digest = hashlib.sha256(self.seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._block = [int.from_bytes(digest[i * 8 : i * 8 + 8], "big") for i in range(_WORDS_PER_BLOCK)]
        self.words += 1
        return self._block.pop(0)

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)``."""
        if n <= 0:
            raise ValueError(f"below({n}): n must be positive")
        limit = _SPAN - _SPAN % n
        while True:
            w = self.word()
            if w < limit:
                return w % n


def sample(stream: Stream, population: int, k: int) -> list[int]:
    """``k`` distinct indices of ``range(population)`` in draw order (a partial Fisher–Yates shuffle:
    step ``i`` swaps position ``i`` with ``i + below(population - i)`` and takes what lands at ``i``)."""
    if not 0 <= k <= population:
        raise ValueError(f"cannot draw {k} of {population}")
    moved: dict[int, int] = {}
    drawn = []
    for i in range(k):
        j = i + stream.below(population - i)
        drawn.append(moved.get(j, j))
        moved[j] = moved.get(i, i)
    return drawn
