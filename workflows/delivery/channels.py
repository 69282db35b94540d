"""Channels a push leaves through: ``log`` (the default, in-process) and ``webhook`` (a JSON POST signed
with HMAC-SHA256: ``X-Yunshang-Signature: sha256=<hex>`` over the exact body bytes, the delivery named
in ``X-Yunshang-Delivery`` so that receivers can drop a copy sent twice)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from workflows.settings import Settings

log = logging.getLogger("yunshang.deliveries")

SIGNATURE_HEADER = "X-Yunshang-Signature"
DELIVERY_HEADER = "X-Yunshang-Delivery"


class DeliveryFailed(Exception):
    """A channel could not hand the push over; the message says why."""


class Channel(Protocol):
    name: str
    #: never fails and never leaves the process: a push through it is done inside the emitting
    #: transaction, with no message
    local: bool

    def send(self, delivery_id: str, message: Mapping[str, Any]) -> None:
        """Hand the push over, or raise ``DeliveryFailed``."""
        ...


class LogChannel:
    name = "log"
    local = True  # never fails, never leaves the process

    def send(self, delivery_id: str, message: Mapping[str, Any]) -> None:
        recipient = message.get("recipient", {})
        log.info("push %s %s → %s: %s", delivery_id, message.get("kind"), recipient, message.get("title"))


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature over the raw body, compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


class WebhookChannel:
    name = "webhook"
    local = False

    def __init__(self, url: str, secret: str, client: httpx.Client) -> None:
        self.url = url
        self.secret = secret
        self.client = client

    def send(self, delivery_id: str, message: Mapping[str, Any]) -> None:
        body = encode(message)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, body),
            DELIVERY_HEADER: delivery_id,
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {self.url}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryFailed(f"POST {self.url}: HTTP {response.status_code} {response.text[:200]}")


def build_channel(settings: Settings) -> Channel:
    """``webhook`` when ``YUNSHANG_WEBHOOK_URL`` is set, else ``log``."""
    if settings.webhook_url and settings.webhook_secret is not None:
        client = httpx.Client(timeout=settings.webhook_timeout)
        return WebhookChannel(settings.webhook_url, settings.webhook_secret.get_secret_value(), client)
    return LogChannel()
