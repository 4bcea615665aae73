"""Certificate pages for the signed-in holder: their certificates, one to share, its PDF, and renewal.

One certificate's page carries its link, QR code and a pre-filled LinkedIn link. Staff may open any holder's
pages; anyone else gets a 404 (a certificate's existence is not told).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, abort, current_app, flash, redirect, render_template, url_for

from lms.accounts.access import acting_user, login_required
from lms.certificates import operations
from lms.certificates.forms import RenewForm
from lms.certificates.models import Certificate
from lms.certificates.pdf import qr_data_uri
from lms.certificates.views import bp, certificate_or_404
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db


def _holders_certificate(code: str) -> Certificate:
    """The certificate, if the signed-in user holds it or is staff; 404 otherwise (its existence is not told)."""
    certificate = certificate_or_404(code)
    user = acting_user()
    if certificate.user_id != user.id and not user.is_staff:
        abort(404)
    return certificate


def linkedin_url(certificate: Certificate) -> str:
    """LinkedIn's "Add to profile" link for a certification, pre-filled."""
    version = certificate.current
    params: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": version.track_title,
        "organizationName": current_app.config["ORGANIZATION_NAME"],
        "issueYear": version.issued_at.year,
        "issueMonth": version.issued_at.month,
    }
    if version.expires_at is not None:
        params["expirationYear"] = version.expires_at.year
        params["expirationMonth"] = version.expires_at.month
    params["certUrl"] = operations.verification_url(certificate)
    params["certId"] = certificate.display_code
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def _renewal(certificate: Certificate, at: datetime) -> dict[str, Any]:
    expires = certificate.current.expires_at
    window_open = operations.in_renewal_window(certificate, at)
    expired = expires is not None and expires <= at
    return {
        "open": window_open,
        "expired": expired,
        "opens_on": expires - operations.RENEWAL_WINDOW if expires else None,
        "days_left": (expires - at).days if expires and expires > at else 0,
        # What renewing asks for now (the recertification exam, the track's rule), once renewal is the topic.
        "needs": operations.renewal_needs(certificate) if window_open or expired else None,
        "exam": operations.fresh_evidence(certificate).exam if expires and not (window_open or expired) else None,
    }


@bp.route("/certificates")
@login_required
def mine() -> Any:
    certificates = operations.certificates_of(acting_user())
    return render_template("certificates/mine.html", certificates=certificates, now=now_utc())


@bp.route("/certificates/<code>")
@login_required
def holder(code: str) -> Any:
    certificate = _holders_certificate(code)
    at = now_utc()
    url = operations.verification_url(certificate)
    return render_template(
        "certificates/holder.html",
        certificate=certificate,
        version=certificate.current,
        status=certificate.status_at(at),
        url=url,
        qr=qr_data_uri(url),
        linkedin=linkedin_url(certificate),
        renewal=_renewal(certificate, at),
        renew_form=RenewForm(),
        is_holder=certificate.user_id == acting_user().id,
    )


@bp.route("/certificates/<code>/certificate.pdf")
@login_required
def download_pdf(code: str) -> Any:
    certificate = _holders_certificate(code)
    if certificate.is_revoked or certificate.is_suspended:
        state = "revoked" if certificate.is_revoked else "suspended (under review)"
        flash(f"A {state} certificate has no PDF to download.", "error")
        return redirect(url_for("certificates.holder", code=certificate.display_code))
    filename = f"certificate-{certificate.display_code}.pdf"
    data = operations.certificate_pdf(certificate)
    if data is None:  # its job has not rendered it yet: say so, and look again shortly
        page = render_template("certificates/pdf_pending.html", certificate=certificate)
        return page, 202, {"Retry-After": "5", "Cache-Control": "no-store"}
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private"},
    )


@bp.route("/certificates/<code>/credential.json")
@login_required
def download_credential(code: str) -> Any:
    """The signed Open Badges 3.0 credential as a file for the holder's wallet (the same one machines fetch)."""
    from lms.certificates.credentials import MEDIA_TYPE, credential_json

    certificate = _holders_certificate(code)
    if certificate.is_revoked or certificate.is_suspended:
        flash("A certificate that does not hold now has no credential to add to a wallet.", "error")
        return redirect(url_for("certificates.holder", code=certificate.display_code))
    filename = f"certificate-{certificate.display_code}.json"
    return Response(
        credential_json(certificate),
        mimetype=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private"},
    )


@bp.route("/certificates/<code>/renew", methods=["POST"])
@login_required
def renew(code: str) -> Any:
    certificate = _holders_certificate(code)
    form = RenewForm()
    if form.validate_on_submit():
        try:
            operations.renew_certificate(certificate, acting_user())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash("Your certificate is renewed: same code and link, a new validity period.", "success")
    return redirect(url_for("certificates.holder", code=certificate.display_code))
