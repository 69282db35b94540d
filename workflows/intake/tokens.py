"""Bearer tokens for source systems and operators. Only a SHA-256 of each token is stored.

Kinds: ``source`` (may emit the event types it is granted, as the CloudEvents ``source`` values it is
bound to; ``*`` grants all), ``operator`` (queries and operator actions), ``admin`` (both; the embedded
stack's development token). A source bound to its ``source`` values cannot take another system's event
ids: dedupe is keyed on (source, id).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.errors import BadInput, YunshangError
from workflows.store.db import Database
from workflows.store.models import ApiToken
from workflows.time.clock import Clock, monotonic

Kind = Literal["source", "operator", "admin"]
#: a department code (``rules/departments.yaml``)
DEPARTMENT = re.compile(r"[A-Z][A-Z0-9_]{1,15}")


class TokenConfig(BaseModel):
    """A token given in configuration (``YUNSHANG_API_TOKENS``, a JSON list of these)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=16)
    kind: Kind
    event_types: list[str] = Field(default_factory=list)
    sources: list[str] | None = None
    """The CloudEvents ``source`` values a source token may post as (``*``: any)."""
    department: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{1,15}$")
    """An operator token's department: it sees and acts on only that department's work."""


@dataclass(frozen=True)
class Principal:
    name: str
    kind: Kind
    event_types: tuple[str, ...]
    #: None: any source (an admin, or a token made before sources were bound)
    sources: tuple[str, ...] | None = None
    #: an operator scoped to one department (its code, e.g. ``SCJG``) sees and acts on only that
    #: department's work; None: the whole district
    department: str | None = None

    @property
    def operator(self) -> bool:
        return self.kind in ("operator", "admin")

    def may_emit(self, event_type: str) -> bool:
        return self.kind == "admin" or (
            self.kind == "source" and ("*" in self.event_types or event_type in self.event_types)
        )

    def may_post_as(self, source: str) -> bool:
        """Whether this token may post events whose CloudEvents ``source`` is ``source``."""
        return self.kind == "admin" or self.sources is None or "*" in self.sources or source in self.sources


class TokenError(YunshangError):
    code = "token_error"
    http_status = 409


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    db: Database,
    clock: Clock,
    name: str,
    kind: Kind,
    event_types: list[str] | None = None,
    token: str | None = None,
    sources: list[str] | None = None,
    department: str | None = None,
) -> str:
    """Create a token and return it (shown once; only its hash is stored). A source token names the
    event types it may emit and the CloudEvents ``source`` values it posts as; an operator token may be
    scoped to one ``department``."""
    if kind == "source" and not event_types:
        raise BadInput("a source token needs at least one --event-type (or '*' for all)")
    if kind == "source" and not sources:
        raise BadInput("a source token needs at least one --source, the CloudEvents source it posts as")
    if department is not None and kind != "operator":
        raise BadInput(f"only an operator token is scoped to a department, not a {kind} token")
    if department is not None and not DEPARTMENT.fullmatch(department):
        raise BadInput(f"department {department!r}: give a department code such as SCJG (A-Z, 2-16)")
    token = token or "ys_" + secrets.token_urlsafe(24)
    with db.transaction() as session:
        if session.execute(select(ApiToken.id).where(ApiToken.name == name)).first():
            raise TokenError(f"a token named {name!r} exists; revoke it or pick another name")
        session.add(
            ApiToken(
                name=name,
                kind=kind,
                token_hash=digest(token),
                prefix=token[:8],
                event_types=sorted(set(event_types or [])),
                sources=sorted(set(sources)) if kind == "source" and sources else None,
                department=department,
                created_at=clock.now(),
            )
        )
    return token


def ensure(db: Database, clock: Clock, configs: list[TokenConfig]) -> None:
    """Make the configured tokens valid (created or updated by name). Several API processes starting
    at once against one database each do this: one that finds a token created by another meanwhile
    (the name's unique key) does it again, now updating the row."""
    for attempt in range(3):
        try:
            _ensure(db, clock, configs)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _ensure(db: Database, clock: Clock, configs: list[TokenConfig]) -> None:
    with db.transaction() as session:
        for config in configs:
            row = session.execute(select(ApiToken).where(ApiToken.name == config.name)).scalar_one_or_none()
            if row is None:
                row = ApiToken(name=config.name, created_at=clock.now())
                session.add(row)
            row.kind = config.kind
            row.token_hash = digest(config.token)
            row.prefix = config.token[:8]
            row.event_types = sorted(set(config.event_types))
            row.sources = sorted(set(config.sources)) if config.sources is not None else None
            row.department = config.department if config.kind == "operator" else None
            row.revoked_at = None


def revoke(db: Database, clock: Clock, name: str) -> None:
    with db.transaction() as session:
        row = session.execute(select(ApiToken).where(ApiToken.name == name)).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            raise TokenError(f"no active token named {name!r}; see `yunshang tokens list`")
        row.revoked_at = clock.now()


def list_tokens(db: Database) -> list[ApiToken]:
    with db.read() as session:
        return list(session.execute(select(ApiToken).order_by(ApiToken.name)).scalars())


def verify(db: Database, token: str) -> Principal | None:
    """The principal a presented token belongs to, or None when it is unknown or revoked."""
    with db.read() as session:
        row = session.execute(
            select(ApiToken).where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
        ).scalar_one_or_none()
    if row is None:
        return None
    sources = tuple(row.sources) if row.sources is not None else None
    return Principal(
        row.name,
        row.kind,  # type: ignore[arg-type]
        tuple(row.event_types),
        sources,
        department=row.department,
    )


class TokenCache:
    """Token lookups remembered for ``ttl`` seconds (a revocation elsewhere takes effect within it)."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._seen: dict[str, tuple[float, Principal | None]] = {}

    def get(self, token: str) -> tuple[bool, Principal | None]:
        hit = self._seen.get(token)
        if hit is None or monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def put(self, token: str, who: Principal | None) -> None:
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[token] = (monotonic(), who)
