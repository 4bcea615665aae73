"""Renewing a certificate: another validity period, as a new version under the same code."""

from __future__ import annotations

from lms.accounts.models import User
from lms.certificates import eligibility
from lms.certificates.history import add_next_version, clean_reason, commit_new_version
from lms.certificates.models import Certificate, CertificateVersion, EventAction
from lms.certificates.recertification import fresh_evidence
from lms.certificates.validity import RENEWAL_WINDOW, expiry_for, in_renewal_window
from lms.clock import now_utc
from lms.errors import DomainError
from lms.timezones import format_time


def renew_certificate(certificate: Certificate, actor: User, reason: str = "") -> CertificateVersion:
    """Renew for another validity period (a new version, same code) once the holder meets the current rule.

    The holder may renew from 60 days before expiry, with fresh evidence: when the track has a recertification
    exam, a pass of it that finished inside this renewal window (lms.certificates.recertification; earlier passes
    do not count). The track's rule is also checked as the track stands now, so modules or quizzes added since the
    first issue must be completed first. Staff may renew at any time.

    For anyone outside this feature a renewal is a reissue: the code now shows a new version (new dates), so it
    emits CertificateReissued with the new version's number and the reason ("Renewed by the holder" when the
    holder gave none). The certificate's own history keeps it apart, as "renewed". Nothing is emitted when the
    renewal is refused.
    """
    at = now_utc()
    if certificate.is_revoked:
        raise DomainError("A revoked certificate cannot be renewed.")
    if certificate.is_suspended:
        raise DomainError("A suspended certificate cannot be renewed while it is under review.")
    track = certificate.track
    if certificate.current.expires_at is None:
        raise DomainError("This certificate does not expire; there is nothing to renew.")
    if not actor.is_staff:
        if actor.id != certificate.user_id:
            raise DomainError("Only the holder or staff can renew a certificate.")
        if not in_renewal_window(certificate, at):
            opens = certificate.current.expires_at - RENEWAL_WINDOW
            raise DomainError(
                f"Renewal opens on {format_time(opens, 'date')}, 60 days before the certificate expires."
            )
        evidence = fresh_evidence(certificate)
        if not evidence.met:
            raise DomainError(f"To renew, first show fresh evidence. {evidence.in_words}")
        result = eligibility.check_eligibility(certificate.user_id, track)
        if not result.eligible:
            missing = "; ".join(r.label for r in result.missing)
            raise DomainError(f"To renew, first complete what the track now requires: {missing}.")
    reason = clean_reason(
        reason, required=actor.is_staff and actor.id != certificate.user_id, what="renewing"
    )
    reason = reason or "Renewed by the holder"
    version = add_next_version(
        certificate,
        actor,
        reason,
        at,
        EventAction.RENEWED,
        holder_name=certificate.current.holder_name,
        template=certificate.current.template,
        issued_at=at,
        expires_at=expiry_for(track, at),
        changes={},
    )
    return commit_new_version(certificate, version, actor, reason)
