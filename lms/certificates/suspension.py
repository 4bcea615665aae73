"""Suspension: a certificate whose basis is withdrawn stops saying VALID at once, and says it again when it holds.

A certificate issued by the completion rule stands on what the holder did: a released passing grade, a quiz's
counting attempt. When any of it is withdrawn (a regrade reopens the grade, it is released again as "revise", an
attempt is re-scored below the pass), the features that own it emit ProgressChanged, GradeReleased or
RegradeAnswered; the handlers here re-check the rule as it stood when the certificate was issued
(eligibility.basis_failures) inside that same transaction, and suspend the certificate (under review: its public
page, JSON and bulk answers say SUSPENDED, and its Open Badges 3.0 suspension bit is set). When the basis holds again
the platform restores it the same way. Staff see suspended certificates in a queue, and restore (by decision) or
revoke them. A certificate issued by hand (manual basis) is never suspended here.

Each step adds a history entry (the platform, named as such, for automatic steps) and emits CertificateSuspended or
CertificateRestored.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates import eligibility
from lms.certificates.history import add_history_entry, clean_reason
from lms.certificates.models import HELD_STATES, Certificate, CertificateState, EventAction
from lms.certificates.status_list import set_suspension
from lms.clock import now_utc
from lms.errors import DomainError
from lms.events import (
    CertificateRestored,
    CertificateSuspended,
    GradeReleased,
    ProgressChanged,
    RegradeAnswered,
    emit,
)
from lms.extensions import db

RESTORED_AUTOMATICALLY = "The completion rule holds again"


def review_certificates(user_id: int, track_id: int | None = None) -> None:
    """Re-check the basis of the holder's certificates (of one track, or all) and suspend or restore each as it
    now stands. Inside the caller's transaction (no commit); each certificate's row is locked first (PostgreSQL),
    so two reviews at once decide one after the other."""
    stmt = (
        sa.select(Certificate)
        .where(Certificate.user_id == user_id, Certificate.state.in_(HELD_STATES))
        .order_by(Certificate.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if track_id is not None:
        stmt = stmt.where(Certificate.track_id == track_id)
    for certificate in db.session.execute(stmt).scalars().all():
        review_certificate(certificate, now_utc())


def review_certificate(certificate: Certificate, at: datetime) -> None:
    """Suspend the certificate if its basis no longer holds, restore it if it holds again (no commit)."""
    version = certificate.current
    if version is None or version.basis != "completion" or certificate.is_revoked:
        return
    failures = eligibility.basis_failures(certificate.user_id, certificate.track, version.rule)
    if failures:
        if certificate.state == CertificateState.ACTIVE.value and certificate.upheld_at is None:
            reason = "Under review: " + "; ".join(failures) + "."
            _suspend(certificate, reason, at)
        return
    certificate.upheld_at = None  # the basis holds again: from now on the rule decides again
    if certificate.is_suspended:
        _restore(certificate, None, RESTORED_AUTOMATICALLY, at, upheld=False)


def _suspend(certificate: Certificate, reason: str, at: datetime) -> None:
    certificate.state = CertificateState.SUSPENDED.value
    certificate.suspended_at = at
    certificate.suspended_reason = reason
    add_history_entry(certificate, EventAction.SUSPENDED, None, reason, at, automatic=True)
    record_event(None, "certificate.suspended", "certificate", certificate.id, reason=reason)
    set_suspension(certificate, True)  # flushes
    emit(
        CertificateSuspended(
            certificate_id=certificate.id, user_id=certificate.user_id, actor_id=None, reason=reason
        )
    )


def _restore(
    certificate: Certificate, actor: User | None, reason: str, at: datetime, *, upheld: bool
) -> None:
    was = certificate.suspended_reason or ""
    certificate.state = CertificateState.ACTIVE.value
    certificate.suspended_at = None
    certificate.suspended_reason = None
    certificate.upheld_at = at if upheld else None
    data: dict[str, object] = {"suspended_for": was}
    if actor is None:
        data["automatic"] = True
    if upheld:
        data["upheld"] = True
    add_history_entry(certificate, EventAction.RESTORED, actor, reason, at, **data)
    actor_id = actor.id if actor else None
    record_event(actor_id, "certificate.restored", "certificate", certificate.id, reason=reason)
    set_suspension(certificate, False)  # flushes
    emit(
        CertificateRestored(
            certificate_id=certificate.id, user_id=certificate.user_id, actor_id=actor_id, reason=reason
        )
    )


def restore_certificate(certificate: Certificate, actor: User, reason: str) -> Certificate:
    """Staff restore a suspended certificate by decision, with a reason kept in its history.

    When its basis still does not hold, the decision stands: the completion rule no longer suspends it until the
    basis holds again (`upheld_at`). Emits CertificateRestored; nothing when refused.
    """
    reason = clean_reason(reason, required=True, what="restoring")
    db.session.execute(sa.select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    db.session.refresh(certificate)
    if not certificate.is_suspended:
        raise DomainError("Only a suspended certificate can be restored.")
    upheld = bool(
        eligibility.basis_failures(certificate.user_id, certificate.track, certificate.current.rule)
    )
    _restore(certificate, actor, reason, now_utc(), upheld=upheld)
    db.session.commit()
    return certificate


def on_progress_changed(event: ProgressChanged) -> None:
    """ProgressChanged (a grade released, a quiz attempt finalized or re-scored): review that track's certificate."""
    review_certificates(event.user_id, event.track_id)


def on_grade_released(event: GradeReleased) -> None:
    """A grade released, passing or not ("revise" withdraws an earlier pass): review that track's certificate."""
    review_certificates(event.user_id, event.track_id)


def on_regrade_answered(event: RegradeAnswered) -> None:
    """An accepted regrade reopens a released grade: the pass it gave no longer stands until it is released again."""
    if event.accepted:
        review_certificates(event.user_id)
