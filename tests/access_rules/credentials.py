"""Access rules for the Open Badges 3.0 documents: the credential (for machines, and as a file for the holder's
wallet), the baked badges, the issuer's DID document, the status lists."""

from tests.access_rules import Rule, everyone
from tests.access_rules.certificates import HOLDER
from tests.access_rules.certificates import prepare as prepare_certificate


def prepare(s):
    if not hasattr(s, "certificate"):  # all features' samples at once: certificates' prepare already ran
        prepare_certificate(s)


RULES = [
    Rule(
        "certificates.verifiable_credential",
        "GET",
        lambda s: f"/verify/{s.code}/credential.json",
        everyone(200),
    ),
    Rule(
        "certificates.download_credential",
        "GET",
        lambda s: f"/certificates/{s.code}/credential.json",
        HOLDER,
    ),
    Rule("certificates.baked_badge_png_image", "GET", lambda s: f"/verify/{s.code}/badge.png", everyone(200)),
    Rule("certificates.baked_badge_svg_image", "GET", lambda s: f"/verify/{s.code}/badge.svg", everyone(200)),
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
