"""Issuing a certificate: by the track's completion rule when a student's progress changes, or by hand (staff).

Each certificate issued emits CertificateIssued (actor_id None when the completion rule issued it) inside the
issuing transaction, once: a racer that finds another transaction's certificate emits nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates import eligibility
from lms.certificates.codes import new_code
from lms.certificates.history import DEFAULT_TEMPLATE, add_history_entry, add_version, clean_reason
from lms.certificates.lookup import active_certificate
from lms.certificates.models import Certificate, CertificateState, EventAction
from lms.certificates.validity import expiry_for
from lms.clock import now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.events import CertificateIssued, ProgressChanged, emit
from lms.extensions import db


def _insert_certificate(
    user: User, track: Track, actor: User | None, reason: str, at: datetime, basis: str
) -> Certificate:
    """Add an active certificate in a savepoint; if another transaction got there first, return that one.

    The partial unique index (one active certificate per student and track) is what decides a race, on SQLite
    and PostgreSQL alike; the loser's savepoint rolls back and it answers with the winner's certificate.
    """
    for _attempt in range(3):
        code = new_code()
        certificate = Certificate(
            code=code.canonical,
            user_id=user.id,
            track_id=track.id,
            state=CertificateState.ACTIVE.value,
            version_number=1,
            recipient_salt=secrets.token_hex(16),
            created_at=at,
        )
        add_version(
            certificate,
            1,
            track,
            holder_name=user.full_name,
            issued_at=at,
            expires_at=expiry_for(track, at),
            template=DEFAULT_TEMPLATE,
            reason=reason,
            actor=actor,
            basis=basis,
        )
        add_history_entry(certificate, EventAction.ISSUED, actor, reason, at, automatic=basis == "completion")
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
                db.session.flush()
        except sa.exc.IntegrityError:
            existing = active_certificate(user.id, track.id)
            if existing is not None:
                return existing
            continue  # the random code collided with an existing one (60 bits: practically never); draw again
        actor_id = actor.id if actor else None
        record_event(
            actor_id, "certificate.issued", "certificate", certificate.id, track=track.slug, reason=reason
        )
        emit(
            CertificateIssued(
                certificate_id=certificate.id, user_id=user.id, track_id=track.id, actor_id=actor_id
            )
        )
        return certificate
    raise DomainError("The certificate could not be issued just now. Please try again.")


def issue_certificate(user: User, track: Track, actor: User | None, reason: str) -> Certificate:
    """Issue a certificate by hand (staff, or None from a shell), with a reason; refused while one is active."""
    reason = clean_reason(reason, required=True, what="issuing a certificate by hand")
    held = active_certificate(user.id, track.id)
    if held is not None and held.is_suspended:
        raise DomainError(
            f"{user.full_name} already holds a certificate for {track.title}, suspended while under review. "
            "Restore or revoke that one instead.",
            field="user",
        )
    if held is not None:
        raise DomainError(
            f"{user.full_name} already holds an active certificate for {track.title}. "
            "Reissue or revoke that one instead.",
            field="user",
        )
    at = now_utc()
    certificate = _insert_certificate(user, track, actor, reason, at, basis="manual")
    db.session.commit()
    return certificate


def issue_if_eligible(user_id: int, track_id: int) -> Certificate | None:
    """React to a student's progress: issue when the track's rule is met and no certificate exists yet.

    Runs inside the emitter's transaction (no commit here). A revoked certificate is never replaced
    automatically: only staff may issue again after a revocation.
    """
    existing = db.session.execute(
        sa.select(Certificate.id)
        .where(Certificate.user_id == user_id, Certificate.track_id == track_id)
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        return None
    track = db.session.get(Track, track_id)
    user = db.session.get(User, user_id)
    if track is None or user is None or track.retired_at is not None:
        return None
    if not eligibility.is_eligible(user_id, track):
        return None
    return _insert_certificate(user, track, None, "Completion rule met", now_utc(), basis="completion")


def on_progress_changed(event: ProgressChanged) -> None:
    """The ProgressChanged handler (subscribed in register): issue if the student now meets the rule."""
    issue_if_eligible(event.user_id, event.track_id)
