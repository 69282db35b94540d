"""Which post-licence permits a business scope needs, and which departments to notify. Pure.

``match_scope(ruleset, "药品零售;食品销售(仅销售预包装食品)")`` finds every route keyword in the text
and every route whose industry codes prefix one of the enterprise's codes. A keyword inside a longer
keyword that also matched does not count (医疗器械经营 in 第三类医疗器械经营); neither does one after a
negation word in the same clause (不含危险化学品经营). A review keyword makes the result ``ambiguous``:
the permits found are still listed, and a person decides the rest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rules.schema import RuleSet

MatchStatus = Literal["matched", "no_match", "ambiguous"]
_CLAUSE_ENDS = frozenset(";。()\n:")


@dataclass(frozen=True)
class Evidence:
    """Why a permit matched: a keyword at ``start:end`` of the scope text, or an industry code."""

    kind: Literal["keyword", "industry_code"]
    rule: str
    """The keyword, or the industry code prefix written in the route."""
    route: int
    """Index of the route in permit_routing.yaml ``routes``."""
    start: int = -1
    end: int = -1
    industry_code: str = ""
    """The enterprise's industry code that matched (industry_code evidence only)."""


@dataclass(frozen=True)
class PermitMatch:
    permit: str
    permit_name: str
    approving: str
    supervising: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def departments(self) -> tuple[str, ...]:
        """Approving first, then supervising, each once: every department to push a notice to."""
        return tuple(dict.fromkeys((self.approving, *self.supervising)))


@dataclass(frozen=True)
class ReviewHit:
    keyword: str
    start: int
    end: int
    reason: str
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    status: MatchStatus
    permits: tuple[PermitMatch, ...] = ()
    reviews: tuple[ReviewHit, ...] = ()
    negated: tuple[Evidence, ...] = ()
    """Keywords found but cancelled by a negation word (shown by explain, otherwise ignored)."""

    @property
    def no_match(self) -> bool:
        return self.status == "no_match"

    @property
    def ambiguous(self) -> bool:
        return self.status == "ambiguous"

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for permit in self.permits for d in permit.departments))


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    keyword: str
    route: int = -1
    review: int = -1


def normalise(text: str) -> str:
    """Full-width forms to plain ones (（）→(), ；→;), one character for one, so offsets hold."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


#: ``normalise`` of the rules' keywords and negation words: the same few dozen for every scope matched
_normalised_rule_text = lru_cache(maxsize=8192)(normalise)


def match_scope(ruleset: RuleSet, business_scope: str, industry_codes: Iterable[str] = ()) -> MatchResult:
    """Match a business scope text (and GB/T 4754 industry codes) against the permit routing rules."""
    routing = ruleset.permit_routing
    text = normalise(business_scope)
    hits = [
        *(_find(text, kw, route=i) for i, route in enumerate(routing.routes) for kw in route.keywords),
        *(_find(text, rk.keyword, review=i) for i, rk in enumerate(routing.review_keywords)),
    ]
    found = [hit for group in hits for hit in group]
    found = sorted((h for h in found if not _shadowed(h, found)), key=lambda h: (h.start, h.route, h.review))
    negations = [_normalised_rule_text(word) for word in routing.negation_words]
    negated = [h for h in found if _negated(text, h.start, negations)]
    evidence: dict[str, list[Evidence]] = {}
    reviews = []
    for hit in found:
        if hit in negated:
            continue
        if hit.review >= 0:
            review = routing.review_keywords[hit.review]
            reviews.append(
                ReviewHit(review.keyword, hit.start, hit.end, review.reason, tuple(review.candidates))
            )
        else:
            code = routing.routes[hit.route].permit.code
            evidence.setdefault(code, []).append(
                Evidence("keyword", hit.keyword, hit.route, hit.start, hit.end)
            )
    for code in industry_codes:
        for index, route in enumerate(routing.routes):
            for prefix in route.industry_codes:
                if code.strip().startswith(prefix):
                    item = Evidence("industry_code", prefix, index, industry_code=code.strip())
                    evidence.setdefault(route.permit.code, []).append(item)
    permits = tuple(_permit(ruleset, code, items) for code, items in evidence.items())
    status: MatchStatus = "ambiguous" if reviews else "matched" if permits else "no_match"
    cancelled = tuple(
        Evidence("keyword", h.keyword, h.route, h.start, h.end) for h in negated if h.route >= 0
    )
    return MatchResult(status, permits, tuple(reviews), cancelled)


def _find(text: str, keyword: str, *, route: int = -1, review: int = -1) -> list[_Hit]:
    needle = _normalised_rule_text(keyword.strip())
    hits = []
    start = text.find(needle)
    while needle and start >= 0:
        hits.append(_Hit(start, start + len(needle), keyword.strip(), route, review))
        start = text.find(needle, start + 1)
    return hits


def _shadowed(hit: _Hit, others: list[_Hit]) -> bool:
    """True when a longer keyword that also matched covers this one."""
    length = hit.end - hit.start
    return any(o.start <= hit.start and hit.end <= o.end and o.end - o.start > length for o in others)


def _negated(text: str, start: int, negations: list[str]) -> bool:
    clause_start = start
    while clause_start > 0 and text[clause_start - 1] not in _CLAUSE_ENDS:
        clause_start -= 1
    clause = text[clause_start:start]
    return any(word and word in clause for word in negations)


def _permit(ruleset: RuleSet, code: str, evidence: list[Evidence]) -> PermitMatch:
    route = ruleset.permit_routing.routes[evidence[0].route]
    return PermitMatch(
        permit=code,
        permit_name=route.permit.name,
        approving=route.approving,
        supervising=tuple(route.supervising),
        evidence=tuple(evidence),
    )
