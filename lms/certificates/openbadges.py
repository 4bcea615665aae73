"""Open Badges 2.0 hosted assertions: the Assertion, its BadgeClass and the issuer Profile, as JSON-LD.

Every id is an absolute URL under the configured public address (LMS_BASE_URL), served by this app, so a verifier
can fetch each one; the Assertion's id is the certificate's canonical /verify/<code> URL. The recipient is the
holder's email, lower-cased and trimmed, salted and hashed as the specification says:
``"sha256$" + hex(sha256(email + salt))``, the salt random per certificate.

A certificate awarded by staff's decision (manual basis) points at the track's badge "as awarded by decision"
(`?basis=manual`), whose criteria say so instead of claiming the completion rule; criteria name quizzes and
assignments by their titles, never by internal slugs. A suspended certificate's assertion says it is under review
(and, since Open Badges 2.0 knows no suspension, is marked revoked for the time being, so no verifier accepts it).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from lms.certificates.eligibility import humanized, live_assignment_title, quiz_titles, required_quizzes
from lms.certificates.lookup import verification_url
from lms.certificates.models import Certificate
from lms.courses.models import Track

CONTEXT = "https://w3id.org/openbadges/v2"
BADGE_IMAGE = "img/certificate-badge.svg"
MANUAL = "manual"
SUSPENDED_NOTICE = "Suspended: under review by the issuer. Do not rely on it as valid until the review ends."


def _base() -> str:
    return str(current_app.config["BASE_URL"])


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def hash_identity(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def issuer_url() -> str:
    return _base() + url_for("certificates.openbadges_issuer")


def badge_class_url(track: Track, basis: str = "completion") -> str:
    """The track's BadgeClass; `basis` "manual": the same badge as awarded by decision, criteria saying so."""
    args = {"basis": MANUAL} if basis == MANUAL else {}
    return _base() + url_for("certificates.openbadges_badge_class", track_slug=track.slug, **args)


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


def badge_class(track: Track, basis: str = "completion") -> dict[str, Any]:
    narrative = awarded_by_decision() if basis == MANUAL else criteria_narrative(track)
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(track, basis),
        "name": f"Certified {track.title}",
        "description": track.certifies,
        "image": badge_image_url(),
        "criteria": {"narrative": narrative},
        "issuer": issuer_url(),
        "tags": ["certificate", track.slug],
    }


def awarded_by_decision() -> str:
    """What a certificate issued by hand stands on, in the words of its page, its PDF and both Open Badges."""
    organization = current_app.config["ORGANIZATION_NAME"]
    return f"Awarded by {organization}'s decision, not through the track's completion rule."


def listed(items: list[str]) -> str:
    """Items in words: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rule_in_words(
    track: Track,
    rule: dict[str, Any] | None = None,
    modules: list[str] | None = None,
    assessed_work: str | None = None,
) -> list[str]:
    """Each part of a completion rule (the track's own unless given) as something the holder had to do, naming
    modules, quizzes and the assignment by their titles, never by their internal slugs."""
    rule = (track.completion or {}) if rule is None else rule
    parts = []
    if rule.get("modules") == "all":
        titles = [f"“{title}”" for title in modules or []]
        parts.append(
            f"complete every module of the track ({listed(titles)})"
            if titles
            else "complete every module of the track"
        )
    slugs = required_quizzes(track, rule)
    quizzes = quiz_titles(track.id, slugs)
    parts += [f"pass the quiz “{quizzes.get(slug) or humanized(slug)}”" for slug in slugs]
    if rule.get("assignment"):
        slug = str(rule["assignment"])
        work = assessed_work or live_assignment_title(track, slug) or humanized(slug)
        parts.append(f"have the assignment “{work}” assessed and passed")
    return parts


def criteria_narrative(track: Track) -> str:
    """How the track's certificate is earned today, in words (the BadgeClass's criteria)."""
    parts = rule_in_words(track)
    if not parts:
        return "Awarded by the issuer's staff."
    return "To earn this certificate the holder had to " + listed(parts) + "."


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
        "badge": badge_class_url(certificate.track, version.basis),
        "verification": {"type": "hosted"},
        "issuedOn": _iso(version.issued_at),
        "narrative": (
            f"{version.holder_name} was awarded the {version.track_title} certificate. {awarded_by_decision()}"
            if version.basis == MANUAL
            else f"{version.holder_name} earned the {version.track_title} certificate."
        ),
    }
    if version.expires_at is not None:
        document["expires"] = _iso(version.expires_at)
    if certificate.is_revoked:
        document["revoked"] = True
        document["revocationReason"] = certificate.revoked_reason
    return document


def suspended_assertion(certificate: Certificate) -> dict[str, Any]:
    """A suspended certificate's assertion: the fact that it is under review and since when, nothing about the
    person. Open Badges 2.0 has no suspension, so it is marked revoked for the time being: no verifier accepts it
    as valid, and `suspended` says it may come back."""
    return {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": verification_url(certificate),
        "badge": badge_class_url(certificate.track, certificate.current.basis),
        "status": "SUSPENDED",
        "suspended": True,
        "suspendedOn": _iso(certificate.suspended_at) if certificate.suspended_at else None,
        "revoked": True,
        "revocationReason": SUSPENDED_NOTICE,
    }
