"""The schema: the database is the source of truth, the broker only transport."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from workflows.store import facets

# BIGINT on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON()
#: ``instances.departments``: jsonb on PostgreSQL (``?`` through a GIN index), the JSON text on SQLite
Departments = JSON().with_variant(JSONB(), "postgresql")
#: the columns ``ix_instances_open`` carries on PostgreSQL (an index-only scan for the overview)
OPEN_INCLUDE = ("flow", "state", "department", "departments", "street", "escalation_level")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the database; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimerStatus(StrEnum):
    """A timer's life: armed with its state, then fired by the sweep or cancelled when the state is left.
    A suspended timer (its clock stopped: ``workflows/engine/suspend.py``) is armed again on resume."""

    ARMED = "armed"
    FIRED = "fired"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


#: the statuses of a timer still open: leaving its state cancels it
OPEN_TIMERS = (TimerStatus.ARMED.value, TimerStatus.SUSPENDED.value)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Instance(Base):
    """One running case of a flow."""

    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("flow", "business_key"),
        Index("ix_instances_flow_state", "flow", "state"),
        Index("ix_instances_subject", "subject"),
        # the dashboard's list: keyset pages by each sortable column (workflows/queries/listing.py)
        Index("ix_instances_flow_id", "flow", "id"),
        Index("ix_instances_state_id", "state", "id"),
        Index("ix_instances_created_at_id", "created_at", "id"),
        # the facets (workflows/store/facets.py): the list's department filter and the scope; with the
        # flow and state, a department's counts per flow × state are read from the index alone
        Index("ix_instances_department", "department", "flow", "state"),
        # a joint inspection's ``departments`` (the scope's other half: ``queries.scope``): GIN on
        # PostgreSQL; a plain index of the JSON text on SQLite, which the scope's LIKE does not use
        Index("ix_instances_departments", "departments", postgresql_using="gin"),
        # the list's enterprise-name search (``LIKE '%…%'``): trigrams on PostgreSQL (pg_trgm); on
        # SQLite a plain index the LIKE does not use
        Index(
            "ix_instances_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
        ),
        # the search for a text pg_trgm draws no trigram from (崂山): its matches and their count by an
        # index-only scan of this narrow index rather than of the wide rows (migration 0017); on SQLite
        # a second plain index
        Index(
            "ix_instances_name",
            "name",
            postgresql_ops={"name": "text_pattern_ops"},
            postgresql_include=["id"],
        ),
        # the open instances (the overview's cards, the overdue filter): a fifth or less of them all;
        # on PostgreSQL with the facets the overview counts by, read from the index alone
        Index(
            "ix_instances_open",
            "id",
            postgresql_where=text("closed_at IS NULL"),
            postgresql_include=list(OPEN_INCLUDE),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(18))
    state: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    rules_version: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # generated from the context by the database (workflows/store/facets.py): never written
    department: Mapped[str | None] = mapped_column(String(64), Computed(facets.department()))
    departments: Mapped[Any] = mapped_column(Departments, Computed(facets.departments()), nullable=True)
    street: Mapped[str | None] = mapped_column(String(64), Computed(facets.street()))
    escalation_level: Mapped[str | None] = mapped_column(String(16), Computed(facets.escalation_level()))
    name: Mapped[str | None] = mapped_column(String(200), Computed(facets.name()))


class History(Base):
    """Append-only audit of every transition, applied or rejected, with its cause."""

    __tablename__ = "history"
    __table_args__ = (
        UniqueConstraint("instance_id", "dedupe_key"),
        Index("ix_history_instance_id", "instance_id", "id"),
        # the reconciliation's lookup of an accepted event's effect
        Index(
            "ix_history_event_cause",
            "cause_id",
            postgresql_where=text("cause_kind = 'event'"),
            sqlite_where=text("cause_kind = 'event'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # applied | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    cause_kind: Mapped[str] = mapped_column(String(16))  # event | timer | operator | message | system
    cause_id: Mapped[str | None] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    dedupe_key: Mapped[str] = mapped_column(String(250))
    #: the rule version the transition ran under (None on rows written before it was recorded)
    rules_version: Mapped[str | None] = mapped_column(String(64))


class TimerRow(Base):
    """A deadline: armed with the state that owns it, cancelled when that state is left."""

    __tablename__ = "timers"
    __table_args__ = (
        Index(
            "ix_timers_armed_due",
            "due_at",
            postgresql_where=text("status = 'armed'"),
            sqlite_where=text("status = 'armed'"),
        ),
        Index("ix_timers_instance_id", "instance_id", "status"),
        # the dashboard's list by next due: armed timers in (due, instance) order
        Index(
            "ix_timers_armed_due_instance",
            "due_at",
            "instance_id",
            postgresql_where=text("status = 'armed'"),
            sqlite_where=text("status = 'armed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"))
    name: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=TimerStatus.ARMED)  # a TimerStatus
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: its suspensions, ``[[suspended at, resumed at or null], …]`` (ISO times); null: never suspended
    ledger: Mapped[list[list[str | None]] | None] = mapped_column(Json)
    #: the budget left (``workflows.time.suspension``), counted from the last resume; null: never
    #: suspended (the budget is then the rule's, from ``created_at``)
    remaining: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)


class Outbox(Base):
    """Messages decided inside a transaction, handed to the broker after commit.

    ``id`` is the Dramatiq message id. ``sent_at`` is set once the row is handed to the broker (written
    so by the process that sends it right after its commit, ``store.rows.stamped``); ``done_at`` once a
    consumer's transaction acknowledged it (the embedded broker is not durable, so rows not done are
    re-dispatched at start-up).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unsent",
            "created_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
        Index(
            "ix_outbox_undone",
            "created_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    message: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sends: Mapped[int] = mapped_column(Integer, default=0)


class InboxEvent(Base):
    """Every event accepted from upstream, unique by (source, id)."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("source", "event_id"), Index("ix_inbox_type", "type"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(32))
    warnings: Mapped[list[str]] = mapped_column(Json, default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeadLetter(Base):
    """A message that exhausted its retries, with the error that killed it."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    queue: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    message: Mapped[dict[str, Any]] = mapped_column(Json)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    requeued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: who requeued it and why (the audit of the operator action)
    requeued_by: Mapped[str | None] = mapped_column(String(100))
    requeue_reason: Mapped[str | None] = mapped_column(Text)


class ClockOffset(Base):
    """The simulated clock's offset from real time; one row, shared by every process."""

    __tablename__ = "clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for a source system (granted event types) or an operator. Only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # source | operator
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    event_types: Mapped[list[str]] = mapped_column(Json, default=list)
    #: the CloudEvents ``source`` values a source token may post as (``*``: any); None for a token
    #: made before sources were bound (it may post any source, and ``tokens list`` says so)
    sources: Mapped[list[str] | None] = mapped_column(Json)
    #: an operator token scoped to one department sees only its work (None: the whole district)
    department: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RuleVersion(Base):
    """An accepted rule set: its files, content hash, author note; ``active`` marks the one in force."""

    __tablename__ = "rule_versions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict[str, str]] = mapped_column(Json)
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    """One push (to a department, its leader, the platform office, the enterprise) and its fate."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_instance_id", "instance_id"),
        Index("ix_deliveries_status", "status"),
        Index("ix_deliveries_sent_at", "sent_at"),  # the overview's pushes of today
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(100), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def table(model: type[Base]) -> Table:
    """The Core table of a model, for bulk statements that skip the ORM unit of work."""
    return cast(Table, model.__table__)


class BulkSelection(Base):
    """An operator's bulk action over a filter of instances: the dry run froze exactly which instances
    (``instance_ids``); applying it (once: ``applied_at``) acts on that set, never the filter again."""

    __tablename__ = "bulk_selections"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(32))  # cancel | reroute | requeue | recompute
    #: the filter as given (``InstanceFilter`` fields) and the action's own options (``department``)
    filter: Mapped[dict[str, Any]] = mapped_column(Json)
    instance_ids: Mapped[list[int]] = mapped_column(Json)
    count: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    applied_by: Mapped[str | None] = mapped_column(String(100))
    #: per instance what was done or why it was skipped, with the counts (None until applied)
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
