"""Reading certificates: by code, by holder, with their history, for the staff list; the tracks to issue for.

Nothing here writes. The canonical public URL of a certificate (verification_url) lives here too: every page,
document and PDF that names a certificate links to it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from lms.accounts.models import User
from lms.certificates.codes import CodeError, format_code, parse_code
from lms.certificates.models import (
    HELD_STATES,
    Certificate,
    CertificateEvent,
    CertificateState,
    CertificateVersion,
)
from lms.courses.models import Track
from lms.extensions import db


def verification_url(certificate: Certificate | str) -> str:
    """The one canonical URL of a certificate, from the configured public address (LMS_BASE_URL)."""
    code = certificate if isinstance(certificate, str) else certificate.code
    return f"{current_app.config['BASE_URL']}/verify/{format_code(code)}"


def select_with_current() -> sa.Select[tuple[Certificate]]:
    """Certificates with their current version and track loaded in the same statement."""
    return sa.select(Certificate).options(joinedload(Certificate.current), joinedload(Certificate.track))


@functools.cache
def _by_code(with_holder: bool) -> sa.Select[tuple[Certificate]]:
    # Built once: the public verify page runs this on every view, and building the statement costs more than
    # running it (SQLAlchemy caches the compiled SQL, not the Python objects).
    stmt = select_with_current().where(Certificate.code == sa.bindparam("code"))
    return stmt.options(joinedload(Certificate.user)) if with_holder else stmt


def find_certificate(code: str, *, with_holder: bool = False) -> Certificate | None:
    """The certificate with this canonical code (its current version and track loaded), or None."""
    return db.session.execute(_by_code(with_holder), {"code": code}).unique().scalar_one_or_none()


def certificates_of(user: User) -> Sequence[Certificate]:
    """A holder's certificates, newest first (one query)."""
    stmt = (
        select_with_current()
        .where(Certificate.user_id == user.id)
        .order_by(Certificate.created_at.desc(), Certificate.id.desc())
    )
    return db.session.execute(stmt).unique().scalars().all()


def active_certificate(user_id: int, track_id: int) -> Certificate | None:
    """The certificate the student holds for the track, active or suspended (at most one: a partial unique index),
    or None."""
    stmt = select_with_current().where(
        Certificate.user_id == user_id,
        Certificate.track_id == track_id,
        Certificate.state.in_(HELD_STATES),
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def certificate_with_history(certificate_id: int) -> Certificate | None:
    """A certificate with its holder, every version and every history entry (with who made it) loaded."""
    stmt = (
        select_with_current()
        .options(
            joinedload(Certificate.user),
            selectinload(Certificate.versions),
            selectinload(Certificate.events).joinedload(CertificateEvent.actor),
        )
        .where(Certificate.id == certificate_id)
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def list_certificates(query: str = "", limit: int = 100, *, suspended: bool = False) -> Sequence[Certificate]:
    """For staff: recent certificates, filtered by holder name, email or code (constant queries); `suspended`: the
    review queue, the certificates suspended (oldest suspension first)."""
    query = query.strip()
    params: dict[str, object] = {"limit": limit}
    code = None
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = f"%{escaped}%"
        with contextlib.suppress(CodeError):
            code = params["code"] = parse_code(query).canonical
    stmt = _listing(suspended, bool(query), code is not None)
    return db.session.execute(stmt, params).unique().scalars().all()


@functools.cache
def _listing(suspended: bool, searching: bool, by_code: bool) -> sa.Select[tuple[Certificate]]:
    """list_certificates' statement, built once for each of its shapes (the words searched and the limit are bound
    parameters). A row holds what the list shows: the holder's account from the join the search uses, the current
    version without its long texts; the track is not shown (the version names it)."""
    stmt = (
        sa.select(Certificate)
        .join(Certificate.user)
        .options(
            contains_eager(Certificate.user),
            joinedload(Certificate.current).defer(CertificateVersion.certifies).defer(CertificateVersion.modules)
            .defer(CertificateVersion.rule).defer(CertificateVersion.reason),
        )
    )  # fmt: skip
    if suspended:
        stmt = stmt.where(Certificate.state == CertificateState.SUSPENDED.value)
    if searching:
        conditions = [
            User.email.like(sa.bindparam("pattern"), escape="\\"),
            sa.func.lower(User.full_name).like(sa.bindparam("pattern"), escape="\\"),
        ]
        if by_code:
            conditions.append(Certificate.code == sa.bindparam("code"))
        stmt = stmt.where(sa.or_(*conditions))
    if suspended:
        stmt = stmt.order_by(Certificate.suspended_at, Certificate.id)
    else:
        stmt = stmt.order_by(Certificate.created_at.desc(), Certificate.id.desc())
    return stmt.limit(sa.bindparam("limit", type_=sa.Integer))


_SUSPENDED_COUNT = sa.select(sa.func.count()).where(Certificate.state == CertificateState.SUSPENDED.value)


def count_suspended() -> int:
    """How many certificates wait in the staff review queue."""
    return int(db.session.execute(_SUSPENDED_COUNT).scalar_one())


def find_track(slug_or_title: str) -> Track | None:
    """The track with this slug, or with this title in any case (for the command line)."""
    text = slug_or_title.strip()
    return (
        db.session.execute(
            sa.select(Track).where(sa.or_(Track.slug == text, sa.func.lower(Track.title) == text.lower()))
        )
        .scalars()
        .first()
    )


def live_tracks() -> Sequence[Track]:
    """The tracks not retired, in their menu order (what staff may issue a certificate for)."""
    return (
        db.session.execute(
            sa.select(Track).where(Track.retired_at.is_(None)).order_by(Track.position, Track.title)
        )
        .scalars()
        .all()
    )
