"""Revoking a certificate: for good, with a reason shown to anyone who verifies it; the certificate is kept."""

from __future__ import annotations

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates.history import add_history_entry, clean_reason
from lms.certificates.models import Certificate, CertificateState, EventAction
from lms.certificates.status_list import set_suspension
from lms.clock import now_utc
from lms.errors import DomainError
from lms.events import CertificateRevoked, emit
from lms.extensions import db


def revoke_certificate(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Revoke for good, with a reason shown to anyone who verifies it. The certificate is kept, never deleted.

    A suspended certificate may be revoked too (staff decide its review that way): its suspension ends, and its
    Open Badges 3.0 suspension bit is cleared (the revocation bit says all). `actor` is None only for callers
    outside staff pages and the shell (which names its operator). Emits CertificateRevoked with the reason inside the
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
    if certificate.suspended_at is not None:
        certificate.suspended_at = None
        certificate.suspended_reason = None
        set_suspension(certificate, False)
    certificate.upheld_at = None
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
