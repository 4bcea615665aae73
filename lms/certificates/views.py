"""Certificate pages: public verification (people and machines), the holder's page, and staff actions."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from wtforms.fields.choices import SelectChoice

from lms.accounts.access import acting_user, login_required, public, staff_required
from lms.accounts.operations import find_user_by_email
from lms.certificates import openbadges, operations
from lms.certificates.codes import CodeError, ParsedCode, parse_code
from lms.certificates.forms import BulkVerifyForm, IssueForm, ReissueForm, RenewForm, RevokeForm, VerifyForm
from lms.certificates.models import Certificate, Status
from lms.certificates.pdf import qr_data_uri
from lms.clock import now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.extensions import db, limiter, login_manager
from lms.page_cache import page_cache_of

bp = Blueprint("certificates", __name__)

HTTP_STATUS = {Status.VALID: 200, Status.EXPIRED: 200, Status.REVOKED: 410, Status.NOT_FOUND: 404}
MACHINE_TYPES = ("application/ld+json", "application/json")


# --- helpers ---------------------------------------------------------------------------------------------------


def _sessionless() -> None:
    """The public verification pages are the same for everyone: never load the user or read the session.

    Flask-Login finds an anonymous user already in `g`, and the page's flash list is empty (messages waiting in
    the session stay there for the next page), so the response depends on the URL alone and sets no cookie.
    """
    g._login_user = login_manager.anonymous_user()
    request_ctx.flashes = []


def _verify_limit() -> str:
    return str(current_app.config["CERTIFICATE_VERIFY_LIMIT"])


def _bulk_limit() -> str:
    return str(current_app.config["CERTIFICATE_BULK_VERIFY_LIMIT"])


def _uploaded_text() -> str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return ""
    data = upload.stream.read(256 * 1024 + 1)
    upload.stream.seek(0)
    return data.decode("utf-8-sig", errors="replace")


def _bulk_cost() -> int:
    """Each code in a bulk request counts as one lookup against the address's allowance."""
    return max(1, len(operations.split_codes(request.form.get("codes", "") + "\n" + _uploaded_text())))


def _machine_wanted() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", *MACHINE_TYPES])
    return best in MACHINE_TYPES


def _json(document: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    if request.accept_mimetypes.best_match(MACHINE_TYPES) == "application/ld+json" or "@context" in document:
        response.mimetype = "application/ld+json"
    return response


def _parse_or_404(code: str) -> Certificate:
    try:
        parsed = parse_code(code)
    except CodeError:
        abort(404)
    certificate = operations.find_certificate(parsed.canonical)
    if certificate is None:
        abort(404)
    return certificate


def _holders_certificate(code: str) -> Certificate:
    """The certificate, if the signed-in user holds it or is staff; 404 otherwise (its existence is not told)."""
    certificate = _parse_or_404(code)
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
    return {
        "open": operations.in_renewal_window(certificate, at),
        "expired": expires is not None and expires <= at,
        "opens_on": expires - operations.RENEWAL_WINDOW if expires else None,
        "days_left": (expires - at).days if expires and expires > at else 0,
    }


# --- public verification ---------------------------------------------------------------------------------------


@bp.route("/verify")
@public
def verify_form() -> Any:
    """Type or paste a code; a well-formed one is sent to its canonical URL."""
    _sessionless()
    form = VerifyForm(formdata=request.args if "code" in request.args else None)
    if "code" not in request.args:
        return render_template("certificates/verify_form.html", form=form)
    if form.validate():
        try:
            parsed = parse_code(form.code.data)
        except CodeError as error:
            form.code.errors = [str(error)]
        else:
            return redirect(url_for("certificates.verify", code=parsed.display))
    return render_template("certificates/verify_form.html", form=form), 400


@bp.route("/verify/<code>.json")
@public
@limiter.shared_limit(_verify_limit, scope="certificate-verify")
def verify_json(code: str) -> Any:
    return _verify(code, machine=True, json_route=True)


@bp.route("/verify/<code>")
@public
@limiter.shared_limit(_verify_limit, scope="certificate-verify")
def verify(code: str) -> Any:
    """The canonical public URL of a certificate: a page for people, an Open Badges assertion for machines."""
    return _verify(code, machine=_machine_wanted(), json_route=False)


def _verify(code: str, *, machine: bool, json_route: bool) -> Any:
    _sessionless()
    try:
        parsed = parse_code(code)
    except CodeError as error:
        if machine:
            return _json({"error": "Invalid code", "message": str(error), "status": 400}, 400)
        form = VerifyForm(formdata=None, data={"code": code[:64]})
        return render_template("certificates/verify.html", status=None, problem=str(error), form=form), 400
    if code != parsed.display:
        return redirect(url_for(request.endpoint or "certificates.verify", code=parsed.display), 301)

    response = _assertion_response(parsed) if machine else _verify_page(parsed)
    response.headers["Cache-Control"] = "no-cache"
    if not json_route:
        response.vary.add("Accept")
    return response


def _assertion_response(parsed: ParsedCode) -> Any:
    result = operations.verify_code(parsed)  # with the holder: the assertion hashes the holder's email
    certificate = result.certificate
    if certificate is None:
        message = "No certificate has this code. Check it against the certificate, or ask its holder."
        return _json({"error": "Not found", "message": message, "status": 404}, 404)
    if certificate.is_revoked:
        return _json(_revoked_document(certificate), 410)
    return _json(openbadges.assertion(certificate), HTTP_STATUS[result.status or Status.NOT_FOUND])


def _verify_page(parsed: ParsedCode) -> Any:
    """The public page: read the certificate's stamp; render only when no page is kept for it (page_cache)."""
    stamp = operations.stamp_code(parsed)
    if stamp is None:
        return current_app.make_response((_render_verify_page(parsed, None, Status.NOT_FOUND), 404))
    pages = page_cache_of(current_app, "verify")
    key = (request.script_root, stamp)
    page = pages.get(key)
    if page is None:
        certificate = operations.find_certificate(parsed.canonical)
        page = _render_verify_page(parsed, certificate, stamp.status)
        pages.put(key, page)
    return current_app.make_response((page, HTTP_STATUS[stamp.status]))


def _render_verify_page(parsed: ParsedCode, certificate: Certificate | None, status: Status) -> str:
    url = operations.verification_url(parsed.canonical)
    return render_template(
        "certificates/verify.html",
        status=status,
        certificate=certificate,
        version=certificate.current if certificate else None,
        url=url,
        qr=qr_data_uri(url) if certificate is not None and not certificate.is_revoked else None,
        json_url=url_for("certificates.verify_json", code=parsed.display),
        form=VerifyForm(formdata=None),
    )


def _revoked_document(certificate: Certificate) -> dict[str, Any]:
    """A revoked assertion: the fact and the reason, and nothing about the person."""
    return {
        "@context": openbadges.CONTEXT,
        "type": "Assertion",
        "id": operations.verification_url(certificate),
        "revoked": True,
        "revocationReason": certificate.revoked_reason,
        "revokedOn": certificate.revoked_at.isoformat(timespec="seconds") if certificate.revoked_at else None,
    }


@bp.route("/verify/bulk", methods=["GET", "POST"])
@public
@limiter.limit(_bulk_limit, methods=["POST"], cost=_bulk_cost)
def verify_bulk() -> Any:
    """Organizations paste or upload many codes and get a table (or a CSV) of statuses."""
    form = BulkVerifyForm()
    results = None
    if form.validate_on_submit():
        entries = operations.split_codes((form.codes.data or "") + "\n" + _uploaded_text())
        if not entries:
            form.codes.errors = ["Paste at least one code, or upload a list."]
        else:
            try:
                results = operations.verify_many(entries)
            except DomainError as error:
                form.codes.errors = [error.message]
            else:
                if request.form.get("format") == "csv":
                    return _bulk_csv(results)
    status = 422 if form.errors else 200
    return render_template("certificates/bulk.html", form=form, results=results), status


def _bulk_csv(results: list[operations.Verification]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["entered", "code", "status", "holder", "track", "issued", "expires", "revoked", "reason", "url"]
    )
    for item in results:
        row = [_csv_safe(item.entered), item.code.display if item.code else "", item.status_label]
        certificate = item.certificate
        if certificate is not None and not certificate.is_revoked:
            version = certificate.current
            row += [
                _csv_safe(version.holder_name),
                _csv_safe(version.track_title),
                version.issued_at.date().isoformat(),
                version.expires_at.date().isoformat() if version.expires_at else "",
                "",
                "",
            ]
        elif certificate is not None:
            revoked = certificate.revoked_at.date().isoformat() if certificate.revoked_at else ""
            row += [
                "",
                _csv_safe(certificate.current.track_title),
                "",
                "",
                revoked,
                _csv_safe(certificate.revoked_reason or ""),
            ]
        else:
            row += ["", "", "", "", "", _csv_safe(item.problem)]
        row.append(operations.verification_url(item.code.canonical) if item.code else "")
        writer.writerow(row)
    stamp = now_utc().strftime("%Y%m%d-%H%M")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="certificate-statuses-{stamp}.csv"'},
    )


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Open Badges documents -------------------------------------------------------------------------------------


@bp.route("/openbadges/issuer")
@public
def openbadges_issuer() -> Any:
    _sessionless()
    return _json(openbadges.issuer_profile())


@bp.route("/openbadges/badges/<track_slug>")
@public
def openbadges_badge_class(track_slug: str) -> Any:
    _sessionless()
    track = db.session.execute(db.select(Track).where(Track.slug == track_slug)).scalar_one_or_none()
    if track is None:
        return _json({"error": "Not found", "message": "No badge has this name.", "status": 404}, 404)
    return _json(openbadges.badge_class(track))


# --- the holder --------------------------------------------------------------------------------------------------


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
    if certificate.is_revoked:
        flash("A revoked certificate has no PDF to download.", "error")
        return redirect(url_for("certificates.holder", code=certificate.display_code))
    filename = f"certificate-{certificate.display_code}.pdf"
    data = operations.certificate_pdf(certificate)
    return Response(
        data,
        mimetype="application/pdf",
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


# --- staff -------------------------------------------------------------------------------------------------------


@bp.route("/staff/certificates")
@staff_required
def staff_list() -> Any:
    query = request.args.get("q", "")[:200]
    certificates = operations.list_certificates(query)
    return render_template(
        "certificates/staff_list.html", certificates=certificates, query=query, now=now_utc()
    )


@bp.route("/staff/certificates/issue", methods=["GET", "POST"])
@staff_required
def staff_issue() -> Any:
    form = IssueForm()
    form.track.choices = [SelectChoice(t.slug, t.title) for t in operations.live_tracks()]
    if form.validate_on_submit():
        student = find_user_by_email(form.email.data)
        track = db.session.execute(db.select(Track).where(Track.slug == form.track.data)).scalar_one_or_none()
        if student is None:
            form.email.errors = ["No account uses this email address."]
        elif track is None:
            form.track.errors = ["Choose one of the listed tracks."]
        else:
            try:
                certificate = operations.issue_certificate(student, track, acting_user(), form.reason.data)
            except DomainError as error:
                db.session.rollback()
                _field_error(form, error)
            else:
                flash(f"Certificate {certificate.display_code} issued to {student.full_name}.", "success")
                return redirect(url_for("certificates.staff_detail", code=certificate.display_code))
    return render_template("certificates/staff_issue.html", form=form), 422 if form.errors else 200


def _field_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field or "", None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _staff_detail_page(
    certificate: Certificate, revoke_form: RevokeForm, reissue_form: ReissueForm, status: int = 200
) -> Any:
    at = now_utc()
    page = render_template(
        "certificates/staff_detail.html",
        certificate=certificate,
        version=certificate.current,
        status=certificate.status_at(at),
        revoke_form=revoke_form,
        reissue_form=reissue_form,
        url=operations.verification_url(certificate),
    )
    return page, status


def _reissue_form_for(certificate: Certificate) -> ReissueForm:
    form = ReissueForm(formdata=None)
    form.holder_name.data = certificate.user.full_name
    form.template.data = certificate.current.template
    return form


def _staff_certificate(code: str) -> Certificate:
    certificate = _parse_or_404(code)
    loaded = operations.certificate_with_history(certificate.id)
    if loaded is None:
        abort(404)
    return loaded


@bp.route("/staff/certificates/<code>")
@staff_required
def staff_detail(code: str) -> Any:
    certificate = _staff_certificate(code)
    return _staff_detail_page(certificate, RevokeForm(formdata=None), _reissue_form_for(certificate))


@bp.route("/staff/certificates/<code>/revoke", methods=["POST"])
@staff_required
def staff_revoke(code: str) -> Any:
    certificate = _staff_certificate(code)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            operations.revoke_certificate(certificate, acting_user(), form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"Certificate {certificate.display_code} is revoked.", "success")
        return redirect(url_for("certificates.staff_detail", code=certificate.display_code))
    return _staff_detail_page(certificate, form, _reissue_form_for(certificate), 422)


@bp.route("/staff/certificates/<code>/reissue", methods=["POST"])
@staff_required
def staff_reissue(code: str) -> Any:
    certificate = _staff_certificate(code)
    form = ReissueForm()
    if form.validate_on_submit():
        try:
            version = operations.reissue_certificate(
                certificate,
                acting_user(),
                form.reason.data,
                holder_name=form.holder_name.data,
                template=form.template.data,
            )
        except DomainError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            flash(f"Certificate {certificate.display_code} reissued as version {version.number}.", "success")
            return redirect(url_for("certificates.staff_detail", code=certificate.display_code))
    certificate = _staff_certificate(code)
    return _staff_detail_page(certificate, RevokeForm(formdata=None), form, 422)
