"""The issuer's decentralized identifier: a `did:web` derived from the public address, and its DID document.

Per the did:web method, `https://academy.example.org` is `did:web:academy.example.org`, a port is kept with its
colon percent-encoded (`did:web:127.0.0.1%3A5000`), and a path becomes colon-separated segments
(`https://example.org/lms` is `did:web:example.org:lms`). The document is served at `/.well-known/did.json` under
the address, or at `<path>/did.json` when the address has a path; it lists every key of the keyring as a
`Multikey` verification method that may make assertions, so credentials signed before a rotation still verify.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from flask import current_app

from lms.certificates.keys import SigningKey, signing_keys

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


def did_for_address(base_url: str) -> str:
    """The did:web of a public address (scheme dropped: did:web always resolves over https)."""
    parts = urlsplit(base_url)
    if not parts.netloc:
        raise ValueError(f"{base_url!r} has no host to derive a did:web from")
    segments = [quote(unquote(s), safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", quote(parts.netloc.lower(), safe=""), *segments])


def address_path(base_url: str) -> str:
    """The path part of the public address, without a trailing slash ("" for a bare host)."""
    return urlsplit(base_url).path.rstrip("/")


def issuer_did() -> str:
    return did_for_address(str(current_app.config["BASE_URL"]))


def verification_method_id(key: SigningKey, did: str | None = None) -> str:
    """A key's id in the DID document: the DID, '#', and the public key itself (stable whatever the order)."""
    return f"{did or issuer_did()}#{key.public_multibase}"


def did_document() -> dict[str, Any]:
    """The issuer's DID document: every key of the keyring, oldest first, each allowed to make assertions."""
    did = issuer_did()
    methods = [
        {
            "id": verification_method_id(key, did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_multibase,
        }
        for key in signing_keys()
    ]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
