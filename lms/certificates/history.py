"""What every change to a certificate writes: a version (issue, reissue, renewal) and an entry in its history.

Nothing is ever deleted: a reissue or renewal adds a version under the same code, and each change adds a
CertificateEvent with who, when and why. The checks of what staff type (a reason, a printed name) live here too,
since every change takes them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates import eligibility
from lms.certificates.models import Certificate, CertificateEvent, CertificateVersion, EventAction
from lms.clock import now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.events import CertificateReissued, emit
from lms.extensions import db

TEMPLATES = {"classic": "Classic", "modern": "Modern"}
DEFAULT_TEMPLATE = "classic"
MAX_REASON_LENGTH = 2000
MAX_NAME_LENGTH = 200


def clean_reason(reason: str | None, *, required: bool, what: str) -> str:
    """The reason with its spaces tidied; refused when required and empty, or too long."""
    text = " ".join((reason or "").split())
    if required and not text:
        raise DomainError(
            f"Give a reason for {what}; it is kept in the certificate's history.", field="reason"
        )
    if len(text) > MAX_REASON_LENGTH:
        raise DomainError(f"Keep the reason under {MAX_REASON_LENGTH} characters.", field="reason")
    return text


def clean_name(name: str | None) -> str:
    """The holder's name as it will be printed, spaces tidied; refused when empty or too long."""
    text = " ".join((name or "").split())
    if not text:
        raise DomainError("Enter the holder's name as it should be printed.", field="holder_name")
    if len(text) > MAX_NAME_LENGTH:
        raise DomainError(f"Use at most {MAX_NAME_LENGTH} characters for the name.", field="holder_name")
    return text


def _snapshot(track: Track) -> dict[str, object]:
    """What the track certifies as it stands now, kept in the version (a later change to the track keeps it)."""
    modules = [m.title for m in track.modules if m.retired_at is None]
    return {
        "track_title": track.title,
        "certifies": track.certifies,
        "modules": modules,
        "assessed_work": eligibility.assessed_work_title(track),
        "rule": eligibility.settled_rule(track),
    }


def add_version(
    certificate: Certificate,
    number: int,
    track: Track,
    *,
    holder_name: str,
    issued_at: datetime,
    expires_at: datetime | None,
    template: str,
    reason: str,
    actor: User | None,
    basis: str,
    rule: dict[str, object] | None = None,
) -> CertificateVersion:
    """Add version `number` to the certificate, with a snapshot of what the track certifies now (and of its
    completion rule, unless `rule` keeps an earlier version's)."""
    snapshot = _snapshot(track)
    if rule is not None:
        snapshot["rule"] = rule
    version = CertificateVersion(
        number=number,
        basis=basis,
        holder_name=holder_name,
        issued_at=issued_at,
        expires_at=expires_at,
        template=template,
        reason=reason,
        created_by_id=actor.id if actor else None,
        created_at=now_utc(),
        **snapshot,
    )
    certificate.versions.append(version)
    return version


def add_history_entry(
    certificate: Certificate,
    action: EventAction,
    actor: User | None,
    reason: str,
    at: datetime,
    **data: object,
) -> None:
    """Add one entry to the certificate's history: the action on its current version, by whom, when and why."""
    certificate.events.append(
        CertificateEvent(
            action=action.value,
            version_number=certificate.version_number,
            actor_id=actor.id if actor else None,
            at=at,
            reason=reason,
            data=data,
        )
    )


def add_next_version(
    certificate: Certificate,
    actor: User,
    reason: str,
    at: datetime,
    action: EventAction,
    *,
    holder_name: str,
    template: str,
    issued_at: datetime,
    expires_at: datetime | None,
    changes: dict[str, object],
) -> CertificateVersion:
    """Make the next version current, with its history entry and audit record, and flush (the caller commits).

    The certificate's row is locked first (PostgreSQL), so two concurrent changes cannot take the same number.
    """
    db.session.execute(sa.select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    number = (
        db.session.execute(
            sa.select(sa.func.max(CertificateVersion.number)).where(
                CertificateVersion.certificate_id == certificate.id
            )
        ).scalar_one()
        or 0
    ) + 1
    version = add_version(
        certificate,
        number,
        certificate.track,
        holder_name=holder_name,
        issued_at=issued_at,
        expires_at=expires_at,
        template=template,
        reason=reason,
        actor=actor,
        basis=certificate.current.basis,
        # A renewal is granted under the rule as it stands now; a reissue only corrects what is printed.
        rule=None if action is EventAction.RENEWED else certificate.current.rule,
    )
    certificate.version_number = number
    add_history_entry(certificate, action, actor, reason, at, **changes)
    record_event(
        actor.id, f"certificate.{action.value}", "certificate", certificate.id, version=number, reason=reason
    )
    db.session.flush()
    return version


def commit_new_version(
    certificate: Certificate, version: CertificateVersion, actor: User, reason: str
) -> CertificateVersion:
    """Announce a new version (CertificateReissued, inside the transaction), commit it, and make the certificate
    read its current version again: the last step of a reissue and of a renewal."""
    emit(
        CertificateReissued(
            certificate_id=certificate.id,
            user_id=certificate.user_id,
            actor_id=actor.id,
            version_number=version.number,
            reason=reason,
        )
    )
    db.session.commit()
    db.session.expire(certificate, ["current"])
    return version
