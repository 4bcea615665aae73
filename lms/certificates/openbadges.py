"""Open Badges 2.0 hosted assertions: the Assertion, its BadgeClass and the issuer Profile, as JSON-LD.

Every id is an absolute URL under the configured public address (LMS_BASE_URL), served by this app, so a verifier
can fetch each one; the Assertion's id is the certificate's canonical /verify/<code> URL. The recipient is the
holder's email, lower-cased and trimmed, salted and hashed as the specification says:
``"sha256$" + hex(sha256(email + salt))``, the salt random per certificate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from lms.certificates.lookup import verification_url
from lms.certificates.models import Certificate
from lms.courses.models import Track

CONTEXT = "https://w3id.org/openbadges/v2"
BADGE_IMAGE = "img/certificate-badge.svg"


def _base() -> str:
    return str(current_app.config["BASE_URL"])


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def hash_identity(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def issuer_url() -> str:
    return _base() + url_for("certificates.openbadges_issuer")


def badge_class_url(track: Track) -> str:
    return _base() + url_for("certificates.openbadges_badge_class", track_slug=track.slug)


def badge_image_url() -> str:
    return _base() + url_for("static", filename=BADGE_IMAGE)


def issuer_profile() -> dict[str, Any]:
    config = current_app.config
    return {
        "@context": CONTEXT,
        "type": "Profile",
        "id": issuer_url(),
        "name": config["ORGANIZATION_NAME"],
        "url": _base() + "/",
        "email": config["MAIL_FROM"],
        "description": f"{config['ORGANIZATION_NAME']} issues the certificates of its training tracks.",
    }


def badge_class(track: Track) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(track),
        "name": f"Certified {track.title}",
        "description": track.certifies,
        "image": badge_image_url(),
        "criteria": {"narrative": criteria_narrative(track)},
        "issuer": issuer_url(),
        "tags": ["certificate", track.slug],
    }


def criteria_narrative(track: Track) -> str:
    rule = track.completion or {}
    parts = []
    if rule.get("modules") == "all":
        parts.append("complete every module of the track")
    for slug in rule.get("quizzes") or []:
        parts.append(f"pass the quiz {slug}")
    if rule.get("assignment"):
        parts.append(f"have the {str(rule['assignment']).replace('-', ' ')} assignment assessed and passed")
    if not parts:
        return "Awarded by the issuer's staff."
    return "To earn this certificate the holder had to " + ", ".join(parts) + "."


def assertion(certificate: Certificate) -> dict[str, Any]:
    """The hosted Assertion for a certificate (current version); revoked ones say so, with the reason."""
    version = certificate.current
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": verification_url(certificate),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": certificate.recipient_salt,
            "identity": hash_identity(certificate.user.email, certificate.recipient_salt),
        },
        "badge": badge_class_url(certificate.track),
        "verification": {"type": "hosted"},
        "issuedOn": _iso(version.issued_at),
        "narrative": f"{version.holder_name} earned the {version.track_title} certificate.",
    }
    if version.expires_at is not None:
        document["expires"] = _iso(version.expires_at)
    if certificate.is_revoked:
        document["revoked"] = True
        document["revocationReason"] = certificate.revoked_reason
    return document
