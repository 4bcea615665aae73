"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0).

To sign: canonicalize the document without its proof (RDFC-1.0) and the proof's options with the document's
`@context`, hash each with SHA-256, and sign the proof options' hash followed by the document's hash with Ed25519;
the signature goes in `proofValue` as multibase base58btc. `verify_proof` does the same in reverse: our own check,
for tests and tools (the independent check is Digital Bazaar's verifier, in tools/verifier).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lms.certificates.credentials_jsonld import canonicalize
from lms.certificates.keys import SigningKey, decode_base58btc, encode_base58btc

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION_METHOD = "assertionMethod"


def timestamp(at: datetime) -> str:
    """An XSD dateTimeStamp in UTC, to the second: 2025-03-10T09:30:00Z."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = {
        "@context": unsecured["@context"],
        **{k: v for k, v in proof_options.items() if k != "proofValue"},
    }
    proof_hash = hashlib.sha256(canonicalize(config).encode()).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured).encode()).digest()
    return proof_hash + document_hash


def sign_document(
    document: dict[str, Any], key: SigningKey, verification_method: str, created: datetime
) -> dict[str, Any]:
    """The document with an embedded DataIntegrityProof made with `key` (a new dict; the input is left alone)."""
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION_METHOD,
    }
    signature = key.sign(_hash_data(document, proof))
    return {**document, "proof": {**proof, "proofValue": encode_base58btc(signature)}}


def verify_proof(document: dict[str, Any], public_key_for: Callable[[str], Ed25519PublicKey | None]) -> bool:
    """Whether the document's one eddsa-rdfc-2022 proof holds, the key looked up by its verification method."""
    proof = document.get("proof")
    if (
        not isinstance(proof, dict)
        or proof.get("type") != PROOF_TYPE
        or proof.get("cryptosuite") != CRYPTOSUITE
    ):
        return False
    public = public_key_for(str(proof.get("verificationMethod", "")))
    if public is None:
        return False
    try:
        signature = decode_base58btc(str(proof.get("proofValue", "")))
        public.verify(signature, _hash_data(document, proof))
    except (InvalidSignature, ValueError):
        return False
    return True
