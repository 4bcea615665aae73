"""Access rules for the Open Badges 3.0 documents: the credential, the issuer's DID document, the status lists."""

from tests.access_rules import Rule, everyone
from tests.access_rules.certificates import prepare as prepare_certificate


def prepare(s):
    prepare_certificate(s)


RULES = [
    Rule(
        "certificates.verifiable_credential",
        "GET",
        lambda s: f"/verify/{s.code}/credential.json",
        everyone(200),
    ),
    Rule("certificates.issuer_did_document", "GET", lambda s: "/.well-known/did.json", everyone(200)),
    # Only where the public address has a path (did:web:host:path); the tests' address has none.
    Rule("certificates.issuer_did_document_at_path", "GET", lambda s: "/did.json", everyone(404)),
    Rule(
        "certificates.credential_status_list",
        "GET",
        lambda s: "/credentials/status/revocation/1",
        everyone(200),
    ),
]
