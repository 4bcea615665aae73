"""Where webhooks may be sent: never to this server's own network (SSRF), checked when an endpoint is registered and
again at each delivery (a name may point elsewhere by then), and the delivery connects to the very address that was
checked (no second lookup an attacker's DNS could answer differently).

In production an endpoint must be https. Loopback, private, link-local and other non-public addresses are refused
unless LMS_WEBHOOKS_ALLOW_PRIVATE is on (the default outside production, for development and the tests)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from lms.config import PRODUCTION
from lms.errors import DomainError

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and the addresses it resolved to (all of them allowed)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def parse_url(raw: str) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or a DomainError saying what is wrong with it (field "url")."""
    url = (raw or "").strip()
    if not url:
        raise DomainError("Enter the endpoint's URL.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise DomainError(f"Keep the URL under {MAX_URL_LENGTH} characters.", field="url")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise DomainError("A URL has no spaces or control characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise DomainError(f"That is not a valid URL ({error}).", field="url") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DomainError("The URL must start with https:// (or http:// in development).", field="url")
    if current_app.config.get("ENV_NAME") == PRODUCTION and scheme != "https":
        raise DomainError("Webhook endpoints must use https:// in production.", field="url")
    if parts.username or parts.password:
        raise DomainError("Put no user name or password in the URL: deliveries are signed.", field="url")
    if parts.fragment:
        raise DomainError("A webhook URL has no #fragment.", field="url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise DomainError("The URL names no host.", field="url")
    return scheme, host, port or (443 if scheme == "https" else 80)


def refused_address(address: IPAddress) -> str | None:
    """Why a delivery may not go to `address` under the current settings, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified:
        return f"{address} is not a host address"
    if address.is_global or current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"):
        return None
    if address.is_loopback:
        kind = "a loopback address (this server itself)"
    elif address.is_link_local:
        kind = "a link-local address (cloud metadata services live there)"
    elif address.is_private:
        kind = "a private network address"
    else:
        kind = "not a public internet address"
    return f"{address} is {kind}"


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address `host` resolves to (an IP literal is itself). Raises OSError when it does not resolve."""
    try:
        return (ipaddress.ip_address(host.strip("[]")),)
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return tuple(found)


def check_target(raw: str) -> Target:
    """The URL checked and resolved; a DomainError (field "url") when it may not receive webhooks. A name that
    does not resolve is refused too (OSError's message kept): at delivery time that is worth a retry, not here."""
    scheme, host, port = parse_url(raw)
    try:
        addresses = resolve(host, port)
    except OSError as error:
        raise DomainError(f"{host} does not resolve to an address ({error}).", field="url") from error
    if not addresses:
        raise DomainError(f"{host} does not resolve to an address.", field="url")
    for address in addresses:
        reason = refused_address(address)
        if reason is not None:
            raise DomainError(f"Webhooks cannot be sent there: {reason}.", field="url")
    return Target(url=raw.strip(), scheme=scheme, host=host, port=port, addresses=addresses)
