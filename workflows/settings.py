"""Settings read from the environment (prefix ``YUNSHANG_``); built in entry points, passed down."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
AMQP_SCHEMES = ("amqp://", "amqps://")
BrokerKind = Literal["embedded", "redis", "rabbitmq"]


class ClockMode(StrEnum):
    system = "system"
    simulated = "simulated"


class Settings(BaseSettings):
    """Every knob of the engine. ``YUNSHANG_DATABASE_URL=...`` and so on."""

    model_config = SettingsConfigDict(env_prefix="YUNSHANG_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/yunshang.db",
        description="SQLAlchemy URL: a SQLite file (embedded) or postgresql+psycopg://...",
    )
    broker: str = Field(
        default="embedded",
        description="'embedded' (in-process StubBroker worker), a redis:// URL (RedisBroker) or an "
        "amqp:// URL (RabbitmqBroker, publisher confirms on)",
    )
    clock: ClockMode = Field(default=ClockMode.system, description="system or simulated")
    flows: str = Field(
        default="",
        description="the flow plug-ins this deployment runs, by name, comma-separated "
        "(e.g. 'dual_notification,grid_check'); empty: every plug-in worker.py lists",
    )
    rules_dir: Path = Field(default=RULES_DIR, description="folder of the YAML rule files")
    rules_poll_interval: float = Field(
        default=2.0,
        ge=0,
        description="seconds between checks of the rules folder (schedulers) and of the active rule "
        "version (every worker); 0 turns hot reload off",
    )
    sweep_interval: float = Field(default=1.0, gt=0, description="seconds between timer sweeps")
    relay_interval: float = Field(
        default=2.0, gt=0, description="seconds between outbox recovery passes (schedulers)"
    )
    relay_grace: float = Field(
        default=5.0, ge=0, description="an outbox row never stamped sent and older than this is re-sent"
    )
    redeliver_after: float = Field(
        default=5.0,
        gt=0,
        description="an outbox row sent this many seconds ago and not finished is re-sent when the broker "
        "no longer holds it (Redis), or on a timetable doubling from this (a broker that cannot tell)",
    )
    max_sends: int = Field(
        default=10, ge=1, description="sends of an outbox row no consumer finishes before it is dead-lettered"
    )
    redis_heartbeat_ms: int = Field(
        default=5_000,
        ge=1_000,
        description="a worker process silent this long is dead: Redis gives its unacked messages to others",
    )
    redis_maintenance_chance: int = Field(
        default=50_000,
        ge=1,
        le=1_000_000,
        description="Redis commands per million that look for dead workers' messages (Dramatiq: 1,000)",
    )
    statement_timeout: float = Field(
        default=60.0, gt=0, description="PostgreSQL: seconds a statement may run before it is cancelled"
    )
    idle_in_transaction_timeout: float = Field(
        default=60.0,
        gt=0,
        description="PostgreSQL: a session idle this many seconds inside a transaction is ended "
        "(its locks released)",
    )
    stale_after: float = Field(
        default=60.0,
        gt=0,
        description="/readyz reports degraded when an accepted event without its effect, an unfinished "
        "outbox row or a dead letter only in the broker is older than this many seconds",
    )
    lock_timeout: float = Field(
        default=30.0, gt=0, description="seconds a transaction waits for a lock before failing (then retried)"
    )
    worker_threads: int = Field(default=8, ge=1, description="Dramatiq worker threads per process")
    group_commit: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="most single-command messages a worker process applies in one transaction when its "
        "threads hold them at once (group commit; 1 turns it off)",
    )
    group_gather: float = Field(
        default=0.005,
        ge=0,
        le=0.1,
        description="seconds a group commit's leader waits for the threads of the groups just applied to "
        "come back with their next command (only while some have not; 0 leads at once)",
    )
    batch_size: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="commands per message when a producer has many at once (timer sweeps); "
        "a worker applies one such message in one transaction",
    )
    max_retries: int = Field(
        default=120,
        ge=0,
        description="retries of a transient failure (the database or the broker away) before "
        "dead-lettering: with the default backoffs about 10 minutes of patience, so an outage does not "
        "kill messages, and a retry comes at most max_backoff_ms after the database is back",
    )
    min_backoff_ms: int = Field(default=500, ge=1, description="first retry delay (ms); doubles each retry")
    max_backoff_ms: int = Field(default=5_000, ge=1, description="longest retry delay (ms)")
    api_host: str = Field(default="127.0.0.1", description="address the HTTP API listens on")
    api_port: int = Field(default=8000, ge=1, le=65535, description="port of the HTTP API")
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="POST /events: a larger body is refused with 413, before it is read whole",
    )
    max_header_count: int = Field(
        default=64, ge=8, description="HTTP API: a request with more headers is refused with 431"
    )
    max_header_bytes: int = Field(
        default=8192, ge=1024, description="HTTP API: a request whose headers are larger is refused with 431"
    )
    max_json_depth: int = Field(
        default=32, ge=4, le=256, description="POST /events: JSON nested deeper is refused with 422"
    )
    api_tokens: str = Field(
        default="[]",
        description='JSON list of tokens: [{"name": "...", "token": "...", "kind": "source|operator|admin", '
        '"event_types": ["license.issued"]}]',
    )
    token_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="how long the API remembers a token lookup (a revocation waits this long)",
    )
    dev_token_file: Path = Field(
        default=Path("var/dev-token"), description="where the embedded stack writes its development token"
    )
    api_url: str | None = Field(
        default=None, description="API the CLI's `emit` posts to (default: api_host:port)"
    )
    api_token: str | None = Field(
        default=None, description="token the CLI's `emit` sends (default: dev token)"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR")
    webhook_url: str | None = Field(
        default=None,
        description="deliveries (pushes) are POSTed here as signed JSON; unset: the log channel",
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the X-Yunshang-Signature header (required with a URL)"
    )
    webhook_max_attempts: int = Field(
        default=5, ge=1, description="webhook attempts before a delivery is marked dead"
    )
    webhook_timeout: float = Field(default=5.0, gt=0, description="seconds a webhook POST may take")
    webhook_min_backoff_ms: int = Field(
        default=1_000, ge=1, description="delay before the second webhook attempt (ms); doubles each time"
    )
    webhook_max_backoff_ms: int = Field(default=60_000, ge=1, description="longest webhook retry delay (ms)")

    @field_validator("broker")
    @classmethod
    def _broker_kind(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(REDIS_SCHEMES + AMQP_SCHEMES):
            raise ValueError(
                "broker must be 'embedded', a redis:// URL (rediss://, unix://) or an amqp:// URL (amqps://)"
            )
        return value

    @field_validator("flows")
    @classmethod
    def _flow_names(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",")] if value.strip() else []
        bad = [name for name in names if not name.isidentifier()]
        if bad:
            raise ValueError(f"flows is a comma-separated list of plug-in names; {bad[0]!r} is not a name")
        return ",".join(names)

    @property
    def flow_names(self) -> tuple[str, ...]:
        """The plug-ins ``flows`` names, in its order; empty: every one."""
        return tuple(self.flows.split(",")) if self.flows else ()

    @property
    def embedded_broker(self) -> bool:
        return self.broker == "embedded"

    @property
    def broker_kind(self) -> BrokerKind:
        """Which broker ``broker`` names: ``embedded``, ``redis`` or ``rabbitmq``."""
        if self.broker == "embedded":
            return "embedded"
        return "rabbitmq" if self.broker.startswith(AMQP_SCHEMES) else "redis"

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not (self.webhook_secret and self.webhook_secret.get_secret_value()):
            raise ValueError("YUNSHANG_WEBHOOK_URL is set: set YUNSHANG_WEBHOOK_SECRET to sign the pushes")
        return self
