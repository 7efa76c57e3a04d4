"""Delivery channels behind one interface (MS-3).

In-app delivery is the inbox row itself; the national platform's message push
and SMS have development adapters that record what would be sent; enterprise
webhooks POST a signed JSON body. A channel answers an :class:`Outcome`; the
delivery worker records it and retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

log = structlog.get_logger("permit_notifications.channels")

SIGNATURE_HEADER = "X-Permit-Signature"
TIMESTAMP_HEADER = "X-Permit-Timestamp"
DELIVERY_HEADER = "X-Permit-Delivery"
EVENT_HEADER = "X-Permit-Event"


@dataclass(frozen=True)
class Outcome:
    """What one attempt achieved: delivered, or the error and whether to retry."""

    delivered: bool
    status_code: int = 0
    error: str = ""
    retry: bool = True


@dataclass(frozen=True)
class Envelope:
    """What a channel sends: the message and where it goes."""

    delivery: str
    target: str
    message: str
    kind: str
    title: str
    body: str
    link: str
    application: str
    application_number: str
    province: str
    create_time: str
    event_id: str

    def json_body(self) -> dict[str, Any]:
        return {"delivery": self.delivery, "message": self.message, "kind": self.kind,
                "title": self.title, "body": self.body, "link": self.link,
                "application": self.application, "applicationNumber": self.application_number,
                "province": self.province, "createTime": self.create_time, "eventId": self.event_id}


class Channel(Protocol):
    """One way of telling people: ``send`` never raises for a delivery problem."""

    name: str

    def send(self, envelope: Envelope, *, url: str = "", secret: str = "") -> Outcome: ...


class RecordingChannel:
    """Development adapter of a platform channel (push, SMS): records what would be sent.

    A deployment replaces it with the platform's adapter behind the same
    interface; the recorded lines are what an operator checks in development.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Envelope] = []

    def send(self, envelope: Envelope, *, url: str = "", secret: str = "") -> Outcome:
        self.sent.append(envelope)
        del self.sent[:-1000]  # bounded: the log line is the record
        log.info("notification_would_send", channel=self.name, target=envelope.target,
                 kind=envelope.kind, message=envelope.message)
        return Outcome(delivered=True)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: float = 300.0,
           now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    ts = headers.get(TIMESTAMP_HEADER) or headers.get(TIMESTAMP_HEADER.lower()) or ""
    sig = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
    if not ts.isdigit() or abs((now or time.time()) - int(ts)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), sig)


class WebhookChannel:
    """HTTPS POST of a JSON body with an HMAC-SHA256 signature header."""

    name = "webhook"

    def __init__(self, *, timeout: float = 5.0, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def send(self, envelope: Envelope, *, url: str = "", secret: str = "") -> Outcome:
        body = json.dumps(envelope.json_body(), ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(time.time()))
        headers = {"content-type": "application/json; charset=utf-8", TIMESTAMP_HEADER: ts,
                   SIGNATURE_HEADER: sign(secret, ts, body), DELIVERY_HEADER: envelope.delivery,
                   EVENT_HEADER: envelope.kind, "user-agent": "permit-notifications/1"}
        try:
            resp = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return Outcome(delivered=False, error=f"{type(e).__name__}: {e}")
        if 200 <= resp.status_code < 300:
            return Outcome(delivered=True, status_code=resp.status_code)
        # A 4xx other than 408/429 will not change by retrying the same body.
        retry = resp.status_code >= 500 or resp.status_code in (408, 429)
        return Outcome(delivered=False, status_code=resp.status_code,
                       error=f"HTTP {resp.status_code}", retry=retry)

    def close(self) -> None:
        self.client.close()
