"""Revoking a certificate: for good, with a reason shown to anyone who verifies it; the certificate is kept."""

from __future__ import annotations

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates.history import add_history_entry, clean_reason
from lms.certificates.models import Certificate, CertificateState, EventAction
from lms.clock import now_utc
from lms.errors import DomainError
from lms.events import CertificateRevoked, emit
from lms.extensions import db


def revoke_certificate(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Revoke for good, with a reason shown to anyone who verifies it. The certificate is kept, never deleted.

    `actor` is None from a shell (`lms revoke-certificate`). Emits CertificateRevoked with the reason inside the
    transaction; nothing when refused (no reason, already revoked).
    """
    reason = clean_reason(reason, required=True, what="revoking")
    if certificate.is_revoked:
        raise DomainError("This certificate is already revoked.")
    at = now_utc()
    actor_id = actor.id if actor else None
    certificate.state = CertificateState.REVOKED.value
    certificate.revoked_at = at
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor_id
    add_history_entry(certificate, EventAction.REVOKED, actor, reason, at)
    record_event(actor_id, "certificate.revoked", "certificate", certificate.id, reason=reason)
    db.session.flush()
    emit(
        CertificateRevoked(
            certificate_id=certificate.id, user_id=certificate.user_id, actor_id=actor_id, reason=reason
        )
    )
    db.session.commit()
    return certificate
