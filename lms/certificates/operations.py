"""Certificate rules as verb-first functions: issue, reissue, renew, revoke, look up and verify.

Nothing is ever deleted: a revoked certificate stays (and says so), a reissue or renewal adds a version under the
same code, and each change adds a CertificateEvent with who, when and why.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.audit import record_event
from lms.certificates import eligibility
from lms.certificates.codes import CodeError, ParsedCode, format_code, new_code, parse_code
from lms.certificates.models import (
    Certificate,
    CertificateEvent,
    CertificateState,
    CertificateVersion,
    EventAction,
    Status,
    status_of,
)
from lms.certificates.tally import tally_of
from lms.clock import now_utc
from lms.courses.models import Track
from lms.database import single_read
from lms.errors import DomainError
from lms.events import ProgressChanged
from lms.extensions import db

TEMPLATES = {"classic": "Classic", "modern": "Modern"}
DEFAULT_TEMPLATE = "classic"
RENEWAL_WINDOW = timedelta(days=60)  # the holder may renew from 60 days before expiry on
MAX_REASON_LENGTH = 2000
MAX_BULK_CODES = 500


# --- dates -----------------------------------------------------------------------------------------------------


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day when it has fewer days)."""
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def expiry_for(track: Track, issued_at: datetime) -> datetime | None:
    """When a certificate issued at `issued_at` expires: Track.validity_months later (0 or less: never)."""
    if not track.validity_months or track.validity_months <= 0:
        return None
    return add_months(issued_at, track.validity_months)


def in_renewal_window(certificate: Certificate, at: datetime) -> bool:
    expires = certificate.current.expires_at
    return not certificate.is_revoked and expires is not None and at >= expires - RENEWAL_WINDOW


# --- reading ---------------------------------------------------------------------------------------------------


def verification_url(certificate: Certificate | str) -> str:
    """The one canonical URL of a certificate, from the configured public address (LMS_BASE_URL)."""
    code = certificate if isinstance(certificate, str) else certificate.code
    return f"{current_app.config['BASE_URL']}/verify/{format_code(code)}"


def _with_current() -> sa.Select[tuple[Certificate]]:
    return sa.select(Certificate).options(joinedload(Certificate.current), joinedload(Certificate.track))


@functools.cache
def _by_code(with_holder: bool) -> sa.Select[tuple[Certificate]]:
    # Built once: the public verify page runs this on every view, and building the statement costs more than
    # running it (SQLAlchemy caches the compiled SQL, not the Python objects).
    stmt = _with_current().where(Certificate.code == sa.bindparam("code"))
    return stmt.options(joinedload(Certificate.user)) if with_holder else stmt


def find_certificate(code: str, *, with_holder: bool = False) -> Certificate | None:
    """The certificate with this canonical code (its current version and track loaded), or None."""
    return db.session.execute(_by_code(with_holder), {"code": code}).unique().scalar_one_or_none()


def certificates_of(user: User) -> Sequence[Certificate]:
    """A holder's certificates, newest first (one query)."""
    stmt = (
        _with_current()
        .where(Certificate.user_id == user.id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return db.session.execute(stmt).unique().scalars().all()


def active_certificate(user_id: int, track_id: int) -> Certificate | None:
    stmt = _with_current().where(
        Certificate.user_id == user_id,
        Certificate.track_id == track_id,
        Certificate.state == CertificateState.ACTIVE.value,
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def certificate_with_history(certificate_id: int) -> Certificate | None:
    stmt = (
        _with_current()
        .options(
            joinedload(Certificate.user),
            selectinload(Certificate.versions),
            selectinload(Certificate.events).joinedload(CertificateEvent.actor),
        )
        .where(Certificate.id == certificate_id)
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def list_certificates(query: str = "", limit: int = 100) -> Sequence[Certificate]:
    """For staff: recent certificates, filtered by holder name, email or code (constant queries)."""
    stmt = _with_current().options(joinedload(Certificate.user)).join(Certificate.user)
    query = query.strip()
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions = [
            User.email.like(pattern, escape="\\"),
            sa.func.lower(User.full_name).like(pattern, escape="\\"),
        ]
        with contextlib.suppress(CodeError):
            conditions.append(Certificate.code == parse_code(query).canonical)
        stmt = stmt.where(sa.or_(*conditions))
    stmt = stmt.order_by(Certificate.created_at.desc(), Certificate.id.desc()).limit(limit)
    return db.session.execute(stmt).unique().scalars().all()


# --- issuing ---------------------------------------------------------------------------------------------------


def _clean_reason(reason: str | None, *, required: bool, what: str) -> str:
    text = " ".join((reason or "").split())
    if required and not text:
        raise DomainError(
            f"Give a reason for {what}; it is kept in the certificate's history.", field="reason"
        )
    if len(text) > MAX_REASON_LENGTH:
        raise DomainError(f"Keep the reason under {MAX_REASON_LENGTH} characters.", field="reason")
    return text


def _clean_name(name: str | None) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise DomainError("Enter the holder's name as it should be printed.", field="holder_name")
    if len(text) > 200:
        raise DomainError("Use at most 200 characters for the name.", field="holder_name")
    return text


def _snapshot(track: Track) -> dict[str, object]:
    modules = [m.title for m in track.modules if m.retired_at is None]
    return {
        "track_title": track.title,
        "certifies": track.certifies,
        "modules": modules,
        "assessed_work": eligibility.assessed_work_title(track),
    }


def _new_version(
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
) -> CertificateVersion:
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
        **_snapshot(track),
    )
    certificate.versions.append(version)
    return version


def _event(
    certificate: Certificate,
    action: EventAction,
    actor: User | None,
    reason: str,
    at: datetime,
    **data: object,
) -> None:
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
        _new_version(
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
        _event(certificate, EventAction.ISSUED, actor, reason, at, automatic=basis == "completion")
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
                db.session.flush()
        except sa.exc.IntegrityError:
            existing = active_certificate(user.id, track.id)
            if existing is not None:
                return existing
            continue  # the random code collided with an existing one (60 bits: practically never); draw again
        record_event(
            actor.id if actor else None,
            "certificate.issued",
            "certificate",
            certificate.id,
            track=track.slug,
            reason=reason,
        )
        return certificate
    raise DomainError("The certificate could not be issued just now. Please try again.")


def issue_certificate(user: User, track: Track, actor: User | None, reason: str) -> Certificate:
    """Issue a certificate by hand (staff, or None from a shell), with a reason; refused while one is active."""
    reason = _clean_reason(reason, required=True, what="issuing a certificate by hand")
    if active_certificate(user.id, track.id) is not None:
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
    issue_if_eligible(event.user_id, event.track_id)


def reissue_certificate(
    certificate: Certificate,
    actor: User,
    reason: str,
    holder_name: str | None = None,
    template: str | None = None,
) -> CertificateVersion:
    """A new version under the same code (a name correction, a template change); dates stay as issued."""
    reason = _clean_reason(reason, required=True, what="reissuing")
    if certificate.is_revoked:
        raise DomainError("A revoked certificate cannot be reissued. Issue a new one instead.")
    template = template or certificate.current.template
    if template not in TEMPLATES:
        raise DomainError("Choose one of the listed templates.", field="template")
    name = _clean_name(holder_name if holder_name is not None else certificate.user.full_name)
    current = certificate.current
    if name == current.holder_name and template == current.template:
        raise DomainError("Nothing would change: give a different name or template.", field="holder_name")
    at = now_utc()
    return _add_version(
        certificate,
        actor,
        reason,
        at,
        EventAction.REISSUED,
        holder_name=name,
        template=template,
        issued_at=current.issued_at,
        expires_at=current.expires_at,
        changes={"holder_name": [current.holder_name, name], "template": [current.template, template]},
    )


def renew_certificate(certificate: Certificate, actor: User, reason: str = "") -> CertificateVersion:
    """Renew for another validity period (a new version, same code) once the holder meets the current rule.

    The holder may renew from 60 days before expiry; the track's rule is checked as the track stands now, so
    modules or quizzes added since the first issue must be completed first. Staff may renew at any time.
    """
    at = now_utc()
    if certificate.is_revoked:
        raise DomainError("A revoked certificate cannot be renewed.")
    track = certificate.track
    if certificate.current.expires_at is None:
        raise DomainError("This certificate does not expire; there is nothing to renew.")
    if not actor.is_staff:
        if actor.id != certificate.user_id:
            raise DomainError("Only the holder or staff can renew a certificate.")
        if not in_renewal_window(certificate, at):
            opens = certificate.current.expires_at - RENEWAL_WINDOW
            raise DomainError(f"Renewal opens on {opens:%d %B %Y}, 60 days before the certificate expires.")
        result = eligibility.check_eligibility(certificate.user_id, track)
        if not result.eligible:
            missing = "; ".join(r.label for r in result.missing)
            raise DomainError(f"To renew, first complete what the track now requires: {missing}.")
    reason = _clean_reason(
        reason, required=actor.is_staff and actor.id != certificate.user_id, what="renewing"
    )
    return _add_version(
        certificate,
        actor,
        reason or "Renewed by the holder",
        at,
        EventAction.RENEWED,
        holder_name=certificate.current.holder_name,
        template=certificate.current.template,
        issued_at=at,
        expires_at=expiry_for(track, at),
        changes={},
    )


def _add_version(
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
    # Lock the row (PostgreSQL) so two concurrent reissues cannot both take the same version number.
    db.session.execute(sa.select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    number = (
        db.session.execute(
            sa.select(sa.func.max(CertificateVersion.number)).where(
                CertificateVersion.certificate_id == certificate.id
            )
        ).scalar_one()
        or 0
    ) + 1
    version = _new_version(
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
    )
    certificate.version_number = number
    _event(certificate, action, actor, reason, at, **changes)
    record_event(
        actor.id, f"certificate.{action.value}", "certificate", certificate.id, version=number, reason=reason
    )
    db.session.commit()
    db.session.expire(certificate, ["current"])
    return version


def revoke_certificate(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Revoke for good, with a reason shown to anyone who verifies it. The certificate is kept, never deleted."""
    reason = _clean_reason(reason, required=True, what="revoking")
    if certificate.is_revoked:
        raise DomainError("This certificate is already revoked.")
    at = now_utc()
    certificate.state = CertificateState.REVOKED.value
    certificate.revoked_at = at
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id if actor else None
    _event(certificate, EventAction.REVOKED, actor, reason, at)
    record_event(
        actor.id if actor else None, "certificate.revoked", "certificate", certificate.id, reason=reason
    )
    db.session.commit()
    return certificate


# --- the PDF --------------------------------------------------------------------------------------------------


def certificate_pdf(certificate: Certificate) -> bytes:
    """The current version's PDF: rendered the first time it is asked for, then kept and served as stored."""
    version = certificate.current
    stored = db.session.execute(
        sa.select(CertificateVersion.pdf).where(CertificateVersion.id == version.id)
    ).scalar_one_or_none()
    if stored is not None:
        return stored
    from lms.certificates.pdf import render_pdf

    rendered = render_pdf(certificate, version, verification_url(certificate))
    # Only the first renderer stores its copy; a concurrent one serves what was stored first.
    db.session.execute(
        sa.update(CertificateVersion)
        .where(CertificateVersion.id == version.id, CertificateVersion.pdf.is_(None))
        .values(pdf=rendered, pdf_generated_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(
        sa.select(CertificateVersion.pdf).where(CertificateVersion.id == version.id)
    ).scalar_one()


# --- verifying -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """One looked-up code: what the verifier typed, and what we found."""

    entered: str
    status: Status | None  # None: the text is not a well-formed code
    code: ParsedCode | None = None
    certificate: Certificate | None = None
    problem: str = ""

    @property
    def status_label(self) -> str:
        if self.status is None:
            return "INVALID CODE"
        return self.status.value.replace("_", " ").upper()


def count_verifications(codes: Iterable[str]) -> int:
    """Add one to the verification count of each certificate with these canonical codes; commit; return how many.

    Counted before the certificates are read, so the read that follows sees the new counts (one UPDATE, one
    SELECT, whatever the number of codes).
    """
    wanted = sorted(set(codes))
    if not wanted:
        return 0
    result = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.code.in_(wanted))
        .values(verification_count=Certificate.verification_count + 1, last_verified_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Stamp:
    """What decides a certificate's public page: its identity, state and current version, and the status now."""

    certificate_id: int
    code: str
    version_number: int
    state: str
    revoked_at: datetime | None
    status: Status


_STAMP = (
    sa.select(
        Certificate.id,
        Certificate.version_number,
        Certificate.state,
        Certificate.revoked_at,
        CertificateVersion.expires_at,
    )
    .join(
        CertificateVersion,
        (CertificateVersion.certificate_id == Certificate.id)
        & (CertificateVersion.number == Certificate.version_number),
    )
    .where(Certificate.code == sa.bindparam("code"))
)


def stamp_code(code: ParsedCode) -> Stamp | None:
    """Look up a code's stamp (one small query) and count the view; None when no certificate has the code.

    A page rendered for one stamp is the same for every visitor until the stamp changes (a revocation, a new
    version, expiry), so the public page can be kept rendered under it.
    """
    with single_read() as connection:
        row = connection.execute(_STAMP, {"code": code.canonical}).one_or_none()
    if row is None:
        return None
    at = now_utc()
    tally_of(current_app).add(row.id, at)
    status = status_of(row.state, row.expires_at, at)
    return Stamp(row.id, code.canonical, row.version_number, row.state, row.revoked_at, status)


def verify_code(code: ParsedCode) -> Verification:
    """Look up one well-formed code with its holder (for the Open Badges assertion) and count the view (written
    with others a few seconds later, see tally). The public page reads only the stamp: stamp_code."""
    certificate = find_certificate(code.canonical, with_holder=True)
    if certificate is None:
        return Verification(code.display, Status.NOT_FOUND, code)
    at = now_utc()
    tally_of(current_app).add(certificate.id, at)
    return Verification(code.display, certificate.status_at(at), code, certificate)


def split_codes(text: str) -> list[str]:
    """Codes from pasted text or an uploaded file: one per line, or separated by commas, semicolons or tabs."""
    entries = []
    for line in text.replace("\r", "\n").split("\n"):
        for part in line.replace(";", ",").replace("\t", ",").split(","):
            part = part.strip().strip('"').strip()
            if part and part.lower() not in {"code", "certificate", "certificate code"}:
                entries.append(part)
    return entries


def verify_many(entries: Sequence[str]) -> list[Verification]:
    """Verify a list of codes in a constant number of queries, however many (one SELECT, one UPDATE)."""
    if len(entries) > MAX_BULK_CODES:
        raise DomainError(
            f"Verify at most {MAX_BULK_CODES} codes at a time; this list has {len(entries)}.", field="codes"
        )
    parsed: list[tuple[str, ParsedCode | None, str]] = []
    for entry in entries:
        try:
            parsed.append((entry, parse_code(entry), ""))
        except CodeError as error:
            parsed.append((entry, None, str(error)))
    wanted = {code.canonical for _, code, _ in parsed if code is not None}
    found: dict[str, Certificate] = {}
    if wanted and count_verifications(wanted):
        rows = (
            db.session.execute(_with_current().where(Certificate.code.in_(sorted(wanted)))).unique().scalars()
        )
        found = {c.code: c for c in rows}
    at = now_utc()
    results = []
    for entry, code, problem in parsed:
        if code is None:
            results.append(Verification(entry[:64], None, None, None, problem))
        elif code.canonical in found:
            certificate = found[code.canonical]
            results.append(Verification(entry[:64], certificate.status_at(at), code, certificate))
        else:
            results.append(Verification(entry[:64], Status.NOT_FOUND, code))
    return results


# --- from a shell ----------------------------------------------------------------------------------------------


def find_track(slug_or_title: str) -> Track | None:
    text = slug_or_title.strip()
    return (
        db.session.execute(
            sa.select(Track).where(sa.or_(Track.slug == text, sa.func.lower(Track.title) == text.lower()))
        )
        .scalars()
        .first()
    )


def live_tracks() -> Sequence[Track]:
    return (
        db.session.execute(
            sa.select(Track).where(Track.retired_at.is_(None)).order_by(Track.position, Track.title)
        )
        .scalars()
        .all()
    )
