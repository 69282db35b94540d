"""``YUNSHANG_BROKER`` names one of three brokers; a URL of any other scheme is refused at the edge."""

from __future__ import annotations

import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from pydantic import ValidationError

from workflows.messaging.brokers import build_broker
from workflows.settings import Settings


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("embedded", "embedded"),
        ("redis://127.0.0.1:6379/0", "redis"),
        ("rediss://cache.example:6380/1", "redis"),
        ("unix:///run/redis.sock?db=2", "redis"),
        ("amqp://guest:guest@127.0.0.1:5672/%2F", "rabbitmq"),
        ("amqps://yunshang:s3cret@mq.example:5671/supervision", "rabbitmq"),
    ],
)
def test_the_broker_url_names_its_kind(url: str, kind: str) -> None:
    assert Settings(broker=url).broker_kind == kind
    assert Settings(broker=url).embedded_broker is (kind == "embedded")


@pytest.mark.parametrize("url", ["", "kafka://127.0.0.1:9092", "127.0.0.1:5672", "Embedded", "amqp:/x"])
def test_any_other_broker_is_refused_naming_the_choices(url: str) -> None:
    with pytest.raises(ValidationError, match=r"broker must be 'embedded', a redis:// URL .* amqp:// URL"):
        Settings(broker=url)


def test_each_kind_builds_its_dramatiq_broker_without_connecting() -> None:
    # nothing listens on port 1: building must not open a connection (each broker connects lazily)
    stub = build_broker(Settings(broker="embedded"))
    redis = build_broker(Settings(broker="redis://127.0.0.1:1/0"))
    rabbit = build_broker(Settings(broker="amqp://guest:guest@127.0.0.1:1/%2F"))
    try:
        assert isinstance(stub, StubBroker)
        assert isinstance(redis, RedisBroker)
        assert isinstance(rabbit, RabbitmqBroker)
        assert rabbit.confirm_delivery  # an enqueue that returns is in RabbitMQ
        params = rabbit.parameters
        assert isinstance(params, pika.URLParameters)
        assert (params.port, params.virtual_host) == (1, "/")
    finally:
        for broker in (stub, redis, rabbit):
            broker.close()
