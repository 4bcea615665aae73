"""Certificate pages for anyone: verification by people and machines, bulk lookups, Open Badges documents.

A code's canonical URL answers with a page for people or an Open Badges assertion for machines; the lookup form
sends a typed code there; bulk lookups answer with a table or a CSV; the issuer and badge documents are JSON-LD.

These pages are the same for every visitor: they never load the user or read the session (lms.web.serve_as_anonymous).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for

from lms.accounts.access import public
from lms.certificates import openbadges, operations
from lms.certificates.codes import CodeError, ParsedCode, parse_code
from lms.certificates.forms import BulkVerifyForm, VerifyForm
from lms.certificates.models import Certificate, Status
from lms.certificates.pdf import qr_data_uri
from lms.certificates.views import bp
from lms.clock import now_utc
from lms.courses.models import Track
from lms.csv_export import render_csv
from lms.errors import DomainError
from lms.extensions import db, limiter
from lms.page_cache import page_cache_of
from lms.web import serve_as_anonymous

HTTP_STATUS = {
    Status.VALID: 200, Status.SUSPENDED: 200, Status.EXPIRED: 200, Status.REVOKED: 410, Status.NOT_FOUND: 404,
}  # fmt: skip
MACHINE_TYPES = ("application/ld+json", "application/json")
BULK_CSV_HEADER = (
    "entered", "code", "status", "holder", "track", "issued", "expires", "revoked", "reason", "url",
)  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------------------------


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


# --- one code ----------------------------------------------------------------------------------------------------


@bp.route("/verify")
@public
def verify_form() -> Any:
    """Type or paste a code; a well-formed one is sent to its canonical URL."""
    serve_as_anonymous()
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
    """The canonical public URL of a certificate: a page for people, an Open Badges assertion for machines, and
    the signed Open Badges 3.0 credential for those that ask for application/vc+ld+json."""
    from lms.certificates.credential_views import credential_response, credential_wanted

    if credential_wanted():
        response = credential_response(code, "certificates.verify")
        response.vary.add("Accept")
        return response
    return _verify(code, machine=_machine_wanted(), json_route=False)


def _verify(code: str, *, machine: bool, json_route: bool) -> Any:
    serve_as_anonymous()
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
    if certificate.is_suspended:
        return _json(openbadges.suspended_assertion(certificate), HTTP_STATUS[Status.SUSPENDED])
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
        qr=qr_data_uri(url) if status in (Status.VALID, Status.EXPIRED) else None,
        json_url=url_for("certificates.verify_json", code=parsed.display),
        form=VerifyForm(formdata=None),
        renewal_requirements=_renewal_requirements(certificate) if status is Status.EXPIRED else "",
    )


def _renewal_requirements(certificate: Certificate | None) -> str:
    """What the track asks of a holder who renews, in words (public: the track's rule, nothing of the holder)."""
    return openbadges.listed(openbadges.rule_in_words(certificate.track)) if certificate is not None else ""


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


# --- many codes --------------------------------------------------------------------------------------------------


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


def _bulk_csv_row(item: operations.Verification) -> list[str]:
    """One looked-up code as a CSV row: a revoked certificate shows its track, date and reason, not its holder; a
    suspended one its track and that it is under review."""
    row = [item.entered, item.code.display if item.code else "", item.status_label]
    certificate = item.certificate
    if certificate is not None and certificate.is_suspended:
        row += ["", certificate.current.track_title, "", "", "", openbadges.SUSPENDED_NOTICE]
    elif certificate is not None and not certificate.is_revoked:
        version = certificate.current
        row += [
            version.holder_name,
            version.track_title,
            version.issued_at.date().isoformat(),
            version.expires_at.date().isoformat() if version.expires_at else "",
            "",
            "",
        ]
    elif certificate is not None:
        revoked = certificate.revoked_at.date().isoformat() if certificate.revoked_at else ""
        row += ["", certificate.current.track_title, "", "", revoked, certificate.revoked_reason or ""]
    else:
        row += ["", "", "", "", "", item.problem]
    row.append(operations.verification_url(item.code.canonical) if item.code else "")
    return row


def _bulk_csv(results: list[operations.Verification]) -> Response:
    """The statuses as a CSV download, every cell defused (lms.csv_export)."""
    stamp = now_utc().strftime("%Y%m%d-%H%M")
    return Response(
        render_csv([BULK_CSV_HEADER, *(_bulk_csv_row(item) for item in results)]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="certificate-statuses-{stamp}.csv"'},
    )


# --- Open Badges documents -------------------------------------------------------------------------------------


@bp.route("/openbadges/issuer")
@public
def openbadges_issuer() -> Any:
    serve_as_anonymous()
    return _json(openbadges.issuer_profile())


@bp.route("/openbadges/badges/<track_slug>")
@public
def openbadges_badge_class(track_slug: str) -> Any:
    serve_as_anonymous()
    track = db.session.execute(db.select(Track).where(Track.slug == track_slug)).scalar_one_or_none()
    if track is None:
        return _json({"error": "Not found", "message": "No badge has this name.", "status": 404}, 404)
    basis = openbadges.MANUAL if request.args.get("basis") == openbadges.MANUAL else "completion"
    return _json(openbadges.badge_class(track, basis))
