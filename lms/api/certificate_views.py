"""/api/v1/certificates: list with filters, read, verify (the public verify page's truth), issue and revoke."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_smorest import Blueprint

from lms.accounts.models import User
from lms.api.course_views import find_track
from lms.api.listing import paged
from lms.api.schemas import (
    CertificateIn,
    CertificateListArgs,
    CertificateOut,
    CertificatePage,
    RevokeIn,
    VerificationOut,
)
from lms.api.views import ApiProblem, acting_admin, requires
from lms.certificates import operations as certificates
from lms.certificates.models import Certificate, CertificateVersion
from lms.clock import now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.extensions import db

bp = Blueprint("api_certificates", __name__, url_prefix="/api/v1", description="Certificates")


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    current = certificate.current
    return {
        "code": certificate.display_code,
        "user_id": certificate.user_id,
        "track": certificate.track.slug,
        "state": certificate.state,
        "status": certificate.status_at(now_utc()).value,
        "holder_name": current.holder_name,
        "version": certificate.version_number,
        "issued_at": current.issued_at,
        "expires_at": current.expires_at,
        "revoked_at": certificate.revoked_at,
        "revoked_reason": certificate.revoked_reason,
        "verify_url": certificates.verification_url(certificate),
    }


def _parsed(code: str) -> certificates.ParsedCode:
    try:
        return certificates.parse_code(code)
    except certificates.CodeError as error:
        raise ApiProblem(404, str(error)) from error


def _certificate(code: str) -> Certificate:
    certificate = certificates.find_certificate(_parsed(code).canonical)
    if certificate is None:
        raise ApiProblem(404, "No certificate has this code.")
    return certificate


@bp.route("/certificates", methods=["GET"])
@requires("certificates:read")
@bp.arguments(CertificateListArgs, location="query", as_kwargs=True)
@bp.response(200, CertificatePage)
def list_certificates(limit: int, cursor: str | None = None, **filters: Any) -> Any:
    """Certificates, filtered by track (slug), state, user_id and issued_since (when first issued)."""
    stmt = sa.select(Certificate).options(
        sa.orm.joinedload(Certificate.current), sa.orm.joinedload(Certificate.track)
    )
    if filters.get("track"):
        stmt = stmt.where(
            Certificate.track_id
            == sa.select(Track.id).where(Track.slug == filters["track"]).scalar_subquery()
        )
    if filters.get("state"):
        stmt = stmt.where(Certificate.state == filters["state"])
    if filters.get("user_id") is not None:
        stmt = stmt.where(Certificate.user_id == filters["user_id"])
    if filters.get("issued_since") is not None:
        first_issued = (
            sa.select(CertificateVersion.issued_at)
            .where(CertificateVersion.certificate_id == Certificate.id, CertificateVersion.number == 1)
            .scalar_subquery()
        )
        stmt = stmt.where(first_issued >= filters["issued_since"])
    return paged(
        stmt, Certificate.id, "certificates", limit, cursor, certificate_json,
        "api_certificates.list_certificates", filters,
    )  # fmt: skip


@bp.route("/certificates/<code>", methods=["GET"])
@requires("certificates:read")
@bp.response(200, CertificateOut)
def get_certificate(code: str) -> Any:
    """One certificate by its code (with or without dashes)."""
    return certificate_json(_certificate(code))


@bp.route("/certificates/<code>/verification", methods=["GET"])
@requires("certificates:read")
@bp.response(200, VerificationOut)
def verify_certificate(code: str) -> Any:
    """What the public verify page says of a code, counted as a verification like it."""
    try:
        parsed = certificates.parse_code(code)
    except certificates.CodeError:
        return _verification(code, "invalid")
    result = certificates.verify_code(parsed)
    certificate = result.certificate
    if certificate is None:
        return _verification(parsed.display, result.status.value if result.status else "invalid")
    current = certificate.current
    return {
        **_verification(parsed.display, result.status.value if result.status else "invalid"),
        "holder_name": current.holder_name,
        "track_title": current.track_title,
        "issued_at": current.issued_at,
        "expires_at": current.expires_at,
        "revoked_reason": certificate.revoked_reason,
        "verify_url": certificates.verification_url(certificate),
    }


def _verification(code: str, status: str) -> dict[str, Any]:
    return {
        "code": code,
        "status": status,
        "holder_name": None,
        "track_title": None,
        "issued_at": None,
        "expires_at": None,
        "revoked_reason": None,
        "verify_url": None,
    }


@bp.route("/certificates", methods=["POST"])
@requires("certificates:write")
@bp.arguments(CertificateIn)
@bp.response(201, CertificateOut, headers={"Location": {"schema": {"type": "string"}}})
def issue_certificate(data: dict[str, Any]) -> Any:
    """Issue the track's certificate to a student who meets its completion rule (422 with what is missing when
    they do not; 409 when they already hold one)."""
    user = db.session.get(User, data["user_id"])
    if user is None:
        raise ApiProblem(422, "There is no user with this id.", errors={"user_id": ["No such user."]})
    track = find_track(data["track"], field="track")
    if certificates.active_certificate(user.id, track.id) is not None:
        raise ApiProblem(409, f"{user.full_name} already holds a certificate for {track.title}.")
    eligibility = certificates.check_eligibility(user.id, track)
    if not eligibility.eligible:
        missing = [{"key": r.key, "label": r.label} for r in eligibility.missing]
        detail = (
            f"{track.title} has no completion rule, so it issues no certificate through the API."
            if not eligibility.requirements
            else f"{user.full_name} does not meet the completion rule of {track.title} yet."
        )
        raise ApiProblem(422, detail, requirements=missing)
    try:
        certificate = certificates.issue_certificate(user, track, acting_admin(), data["reason"])
    except DomainError as error:
        db.session.rollback()
        raise ApiProblem(409, error.message) from error
    location = url_for("api_certificates.get_certificate", code=certificate.display_code)
    return certificate_json(_certificate(certificate.code)), 201, {"Location": location}


@bp.route("/certificates/<code>/revoke", methods=["POST"])
@requires("certificates:write")
@bp.arguments(RevokeIn)
@bp.response(200, CertificateOut)
def revoke_certificate(data: dict[str, Any], code: str) -> Any:
    """Revoke for good, with a reason shown to anyone who verifies the code (409 when already revoked)."""
    certificate = _certificate(code)
    if certificate.is_revoked:
        raise ApiProblem(409, "This certificate is already revoked.")
    certificates.revoke_certificate(certificate, acting_admin(), data["reason"])
    db.session.commit()
    return certificate_json(_certificate(code))
