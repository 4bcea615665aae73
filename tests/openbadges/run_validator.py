"""Run the 1EdTech `openbadges` validator on one hosted assertion URL, offline, and print its report as JSON.

Runs inside the validator's own virtual environment (see tests/openbadges/__init__.py), never in ours. The
validator fetches two kinds of URLs: the assertion, badge class, issuer and image (our live server on loopback),
and the Open Badges v2 JSON-LD context at https://w3id.org/openbadges/v2 (through its requests-based document
loader; PyLD's own urllib loader is the fallback). Both are answered here: the context from the copy the package
itself ships (openbadges.verifier.openbadges_context.OPENBADGES_CONTEXT_V2_DICT), loopback URLs by the network,
and anything else is refused, down to the socket, so a run can never reach the internet.

Usage: python run_validator.py URL [--recipient-email EMAIL]
"""

import argparse
import ipaddress
import json
import socket
import sys
from urllib.parse import urlsplit

CONTEXT_URLS = {
    "https://w3id.org/openbadges/v2",
    "https://w3id.org/openbadges/v2/",
    "http://w3id.org/openbadges/v2",
    "https://openbadgespec.org/v2/context.json",
}

_real_connect = socket.socket.connect
_real_create_connection = socket.create_connection
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host):
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
        raise ConnectionRefusedError(f"offline validator: refused to connect to {host}")
    return _real_connect(sock, address)


def _guarded_create_connection(address, *args, **kwargs):
    if not _is_loopback(address[0]):
        raise ConnectionRefusedError(f"offline validator: refused to connect to {address[0]}")
    return _real_create_connection(address, *args, **kwargs)


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if not _is_loopback(name):
        raise socket.gaierror(f"offline validator: refused to look up {name}")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_offline_guard():
    """Serve the shipped context for its URL, pass loopback through, refuse the rest (no lookup, no connect)."""
    socket.socket.connect = _guarded_connect
    socket.create_connection = _guarded_create_connection
    socket.getaddrinfo = _guarded_getaddrinfo

    import requests
    from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_DICT
    from requests.adapters import HTTPAdapter
    from requests.models import Response

    context_body = json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode()
    real_send = HTTPAdapter.send

    def send(adapter, request, *args, **kwargs):
        url = request.url.split("#", 1)[0]
        if url in CONTEXT_URLS:
            response = Response()
            response.status_code = 200
            response._content = context_body
            response.headers["Content-Type"] = "application/ld+json"
            response.url = request.url
            response.request = request
            response.encoding = "utf-8"
            return response
        host = urlsplit(url).hostname or ""
        if not _is_loopback(host):
            raise requests.ConnectionError(f"offline validator: refused to fetch {url}")
        return real_send(adapter, request, *args, **kwargs)

    HTTPAdapter.send = send

    from pyld import jsonld

    def offline_loader(url):
        if url.split("#", 1)[0] in CONTEXT_URLS:
            return {"contextUrl": None, "documentUrl": url, "document": OPENBADGES_CONTEXT_V2_DICT}
        raise jsonld.JsonLdError(
            "offline validator: refused to load a JSON-LD document",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )

    jsonld.set_document_loader(offline_loader)


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--recipient-email")
    args = parser.parse_args(argv)
    install_offline_guard()

    from openbadges import verify

    profile = {"email": args.recipient_email} if args.recipient_email else None
    report = verify(args.url, recipient_profile=profile, use_cache=False, cache_backend=None)
    json.dump(report, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
