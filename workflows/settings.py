"""Settings read from the environment (prefix ``YUNSHANG_``); built in entry points, passed down."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


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
        description="'embedded' (in-process StubBroker worker) or a redis:// URL",
    )
    clock: ClockMode = Field(default=ClockMode.system, description="system or simulated")
    rules_dir: Path = Field(default=RULES_DIR, description="folder of the YAML rule files")
    sweep_interval: float = Field(default=1.0, gt=0, description="seconds between timer sweeps")
    relay_interval: float = Field(default=5.0, gt=0, description="seconds between outbox re-send passes")
    relay_grace: float = Field(
        default=10.0, ge=0, description="an unsent outbox row older than this many seconds is re-sent"
    )
    lock_timeout: float = Field(
        default=30.0, gt=0, description="seconds a transaction waits for a lock before failing (then retried)"
    )
    worker_threads: int = Field(default=8, ge=1, description="Dramatiq worker threads per process")
    max_retries: int = Field(
        default=5, ge=0, description="retries of a transient failure before dead-lettering"
    )
    min_backoff_ms: int = Field(default=500, ge=1, description="first retry delay (ms); doubles each retry")
    max_backoff_ms: int = Field(default=30_000, ge=1, description="longest retry delay (ms)")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR")

    @field_validator("broker")
    @classmethod
    def _broker_kind(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("broker must be 'embedded' or a redis:// URL")
        return value

    @property
    def embedded_broker(self) -> bool:
        return self.broker == "embedded"
