"""Which failures are worth retrying: the database or broker being unreachable, not our own bugs."""

from __future__ import annotations

from collections.abc import Callable

from dramatiq.errors import BrokerConnectionError
from sqlalchemy.exc import DBAPIError, OperationalError

try:  # the redis client is a dependency of the production broker
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError:  # pragma: no cover
    RedisConnectionError = RedisTimeoutError = OSError  # type: ignore[misc,assignment]

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    ConnectionError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerConnectionError,  # RabbitmqBroker: ConnectionClosed once its own re-connects gave up
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


def transient_retry(max_retries: int) -> Callable[[int, BaseException], bool]:
    """A Dramatiq ``retry_when``: retry transient errors up to ``max_retries`` times, nothing else."""

    def retry_when(retries: int, exc: BaseException) -> bool:
        return retries < max_retries and is_transient(exc)

    return retry_when
