"""Open Badges 3.0: each certificate version as a signed `OpenBadgeCredential` (a W3C Verifiable Credential 2.0).

The issuer is our did:web (lms.certificates.credentials_did); the holder is named only by a salted hash of their
email, as in the Open Badges 2.0 assertion (same salt, same hash); the achievement is the track, with its criteria
in words. Two status entries point at our revocation and suspension lists (lms.certificates.status_list). The proof
is a DataIntegrityProof with eddsa-rdfc-2022 (lms.certificates.credentials_proof), made with the newest key.

A version's credential is signed the first time it is asked for and kept: the same version is then served
byte for byte as stored, whatever keys are added later (earlier keys stay in the DID document).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.certificates.credential_models import CredentialStatusEntry, SignedCredential, StatusPurpose
from lms.certificates.credentials_did import issuer_did, verification_method_id
from lms.certificates.credentials_jsonld import OB_V3_CONTEXT, VC_V2_CONTEXT
from lms.certificates.credentials_proof import sign_document, timestamp
from lms.certificates.keys import newest_key
from lms.certificates.models import Certificate, CertificateVersion
from lms.certificates.openbadges import (
    MANUAL,
    awarded_by_decision,
    badge_class_url,
    badge_image_url,
    hash_identity,
    listed,
    rule_in_words,
)
from lms.certificates.operations import verification_url
from lms.certificates.status_list import status_entries, status_entry_document
from lms.clock import now_utc
from lms.courses.models import Track
from lms.extensions import db

MEDIA_TYPE = "application/vc+ld+json"
CONTEXT = [VC_V2_CONTEXT, OB_V3_CONTEXT]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str) -> str:
    """Text as a credential carries it: without control characters (canonical N-Quads would escape them)."""
    return _CONTROL.sub("", value).strip()


def credential_url(certificate: Certificate) -> str:
    """Where machines fetch the certificate's current credential."""
    return verification_url(certificate) + "/credential.json"


def criteria_narrative(track: Track, version: CertificateVersion) -> str:
    """How the certificate was earned, in words: module, quiz and assignment titles, never internal slugs (the
    rule the version was issued under); a certificate awarded by hand says so, as its page and PDF do."""
    if version.basis == MANUAL:
        return awarded_by_decision()
    parts = rule_in_words(track, version.rule, version.modules, version.assessed_work)
    if not parts:
        return "Awarded by the issuer's staff."
    return f"To earn the {version.track_title} certificate, the holder had to " + listed(parts) + "."


def build_credential(
    certificate: Certificate, version: CertificateVersion, entries: dict[StatusPurpose, CredentialStatusEntry]
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a certificate version."""
    config = current_app.config
    organization = _text(str(config["ORGANIZATION_NAME"]))
    title = _text(version.track_title)
    name = f"Certified {title}"
    document: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "description": (
            f"{organization} awarded the holder the {title} certificate by decision."
            if version.basis == MANUAL
            else f"{organization} certifies that the holder earned the {title} certificate."
        ),
        "issuer": {
            "id": issuer_did(),
            "type": ["Profile"],
            "name": organization,
            "url": str(config["BASE_URL"]) + "/",
        },
        "validFrom": timestamp(version.issued_at),
        **({"validUntil": timestamp(version.expires_at)} if version.expires_at is not None else {}),
        "awardedDate": timestamp(version.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": hash_identity(certificate.user.email, certificate.recipient_salt),
                    "salt": certificate.recipient_salt,
                }
            ],
            "achievement": {
                "id": badge_class_url(certificate.track),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": name,
                "description": _text(version.certifies) or name,
                "criteria": {"narrative": _text(criteria_narrative(certificate.track, version))},
                "image": {
                    "id": badge_image_url(),
                    "type": "Image",
                    "caption": f"The {title} certificate badge",
                },
            },
        },
        "credentialStatus": [
            status_entry_document(entries[purpose])
            for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
        ],
    }
    return document


def sign_credential(document: dict[str, Any]) -> dict[str, Any]:
    """The credential with its proof, made now with the newest key of the keyring."""
    key = newest_key()
    return sign_document(document, key, verification_method_id(key), now_utc())


def _kept(version_id: int) -> sa.Row[tuple[str, str]] | None:
    return db.session.execute(
        sa.select(SignedCredential.issuer, SignedCredential.document).where(
            SignedCredential.version_id == version_id
        )
    ).one_or_none()


def credential_json(certificate: Certificate) -> str:
    """The current version's signed credential, as served: kept from its first signing (signed anew only if the
    public address, and so the issuer's DID, has changed since)."""
    version = certificate.current
    did = issuer_did()
    kept = _kept(version.id)
    if kept is not None and kept.issuer == did:
        return kept.document
    signed = sign_credential(build_credential(certificate, version, status_entries(certificate)))
    document = json.dumps(signed, indent=2, ensure_ascii=False)
    method = signed["proof"]["verificationMethod"]
    if kept is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    SignedCredential(
                        version_id=version.id, issuer=did, verification_method=method, document=document
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another request signed this version first: serve what it kept, below
    else:
        db.session.execute(
            sa.update(SignedCredential)
            .where(SignedCredential.version_id == version.id, SignedCredential.issuer != did)
            .values(issuer=did, verification_method=method, document=document, signed_at=now_utc())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    stored = _kept(version.id)
    return stored.document if stored is not None else document
