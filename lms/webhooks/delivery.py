"""Sending a delivery: one signed HTTP POST per attempt (Standard Webhooks: webhook-id, webhook-timestamp,
webhook-signature, signed by the `standardwebhooks` package), success on 2xx, redirects never followed.

A failed attempt is logged and committed, then raised, so the job queue retries it with its exponential backoff;
when the queue gives up (JobDead) the delivery is failed (lms.webhooks.outbox.on_job_dead). What no retry can
change (the endpoint disabled or deleted, its address refused) fails at once, without raising.

The HTTP client is httpx: a timeout for connect, read and the whole exchange, no redirects by default, no proxy
from the environment (trust_env off), and the "sni_hostname" extension, which lets us connect to the address we
checked while TLS still verifies the certificate of the endpoint's name (urllib would follow redirects unless
told not to and has no way to pin the address under TLS)."""

from __future__ import annotations

import ipaddress
import ssl
import time
from datetime import datetime
from typing import Any, NoReturn

import httpx
from flask import current_app
from standardwebhooks import Webhook

from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.webhooks.models import DELIVERED, FAILED, RETRYING, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from lms.webhooks.safety import Target, parse_url, refused_address, resolve

EXCERPT = 300  # characters of the answer kept with each attempt
USER_AGENT = "lms-webhooks/1"


class DeliveryFailed(Exception):
    """An attempt failed in a way a later attempt may not (a timeout, a refused connection, a non-2xx answer)."""


def signature(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> str:
    """The webhook-signature header: by the secret, and also by the previous one while a rotation overlaps. The
    body is signed as text (its UTF-8 bytes are what is sent), as every version of the package signs it."""
    signatures = [Webhook(endpoint.secret).sign(message_id, at, body)]
    if endpoint.previous_secret and endpoint.previous_secret_until and at < endpoint.previous_secret_until:
        signatures.append(Webhook(endpoint.previous_secret).sign(message_id, at, body))
    return " ".join(signatures)


def signed_headers(endpoint: WebhookEndpoint, message_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(endpoint, message_id, at, body),
    }


def _pinned_request(target: Target, address: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the name, the Host header, and the TLS server name."""
    url = httpx.URL(target.url)
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal as the endpoint's own host
        host_header = f"[{target.host}]" + ("" if target.port == default_port else f":{target.port}")
    pinned = str(url.copy_with(host=host.strip("[]"), port=target.port))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return pinned, {"host": host_header}, extensions


def _post(target: Target, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST to the first checked address; the status code and the first characters of the answer."""
    timeout = float(current_app.config["WEBHOOKS_TIMEOUT_SECONDS"])
    ca_file = current_app.config.get("WEBHOOKS_CA_FILE")
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    url, host_header, extensions = _pinned_request(target, target.addresses[0])
    client = httpx.Client(
        timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False, verify=verify
    )
    with client:
        request = client.build_request(
            "POST", url, content=body, headers={**headers, **host_header}, extensions=extensions
        )
        deadline = time.monotonic() + timeout
        response = client.send(request, stream=True)
        try:
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT or time.monotonic() > deadline:
                    break
        finally:
            response.close()
    return response.status_code, excerpt[:EXCERPT].decode("utf-8", errors="replace")


def _log(delivery: WebhookDelivery, at: datetime, started: float, **fields: Any) -> WebhookAttempt:
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        round=delivery.round,
        at=at,
        duration_ms=int((time.monotonic() - started) * 1000),
        **fields,
    )
    db.session.add(attempt)
    delivery.attempts += 1
    delivery.last_attempt_at = at
    delivery.last_status_code = fields.get("status_code")
    return attempt


def deliver(payload: dict[str, Any]) -> None:
    """The job handler of "webhooks.deliver": one attempt at sending the delivery's stored payload."""
    delivery = db.session.get(WebhookDelivery, payload.get("delivery_id", 0))
    if delivery is None or delivery.round != payload.get("round"):
        return  # gone, or a redelivery took over: that job sends it
    if delivery.state in (DELIVERED, FAILED):
        return  # this job ran before (a worker died after the work): sent once
    endpoint = delivery.endpoint
    at, started = now_utc(), time.monotonic()
    if not endpoint.live:
        state = "deleted" if endpoint.deleted_at is not None else "disabled"
        _log(delivery, at, started, error=f"Not sent: the endpoint is {state}.")
        delivery.state = FAILED
        return
    try:
        scheme, host, port = parse_url(endpoint.url)
    except DomainError as error:  # stored before a stricter rule (production's https): no retry changes it
        _log(delivery, at, started, error=f"Not sent: {error.message}"[:500])
        delivery.state = FAILED
        return
    try:
        addresses = resolve(host, port)
    except OSError as error:  # the name does not resolve now: perhaps later
        _fail(delivery, at, started, f"{host} does not resolve: {error}")
    refusals = [reason for address in addresses if (reason := refused_address(address)) is not None]
    if refusals or not addresses:
        _log(delivery, at, started, error=f"Not sent: {refusals[0] if refusals else 'no address'}."[:500])
        delivery.state = FAILED
        return
    target = Target(url=endpoint.url, scheme=scheme, host=host, port=port, addresses=addresses)
    body = delivery.payload.encode("utf-8")
    headers = signed_headers(endpoint, delivery.message_id, at, delivery.payload)
    try:
        status, excerpt = _post(target, headers, body)
    except httpx.HTTPError as error:  # refused, reset, timed out, a malformed answer
        _fail(delivery, at, started, f"{type(error).__name__}: {error}")
    if not 200 <= status < 300:
        _fail(delivery, at, started, f"The endpoint answered {status}.", status_code=status, excerpt=excerpt)
    _log(delivery, at, started, status_code=status, succeeded=True, response_excerpt=excerpt)
    delivery.state = DELIVERED
    delivery.delivered_at = at
    db.session.commit()  # the ledger: a job run twice sends once


def _fail(
    delivery: WebhookDelivery,
    at: datetime,
    started: float,
    error: str,
    *,
    status_code: int | None = None,
    excerpt: str = "",
) -> NoReturn:
    """Log the failed attempt and commit it (the queue rolls back what a failing handler wrote), then raise for
    the queue to retry after its backoff."""
    _log(delivery, at, started, status_code=status_code, response_excerpt=excerpt, error=error[:500])
    delivery.state = RETRYING
    db.session.commit()
    raise DeliveryFailed(error)
