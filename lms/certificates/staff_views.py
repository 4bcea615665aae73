"""Certificate pages for staff: the list and search, the review queue of suspended certificates, issuing by hand,
a history, reissuing, restoring and revoking."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from lms.accounts.access import acting_user, staff_required
from lms.accounts.kept_pages import kept_page
from lms.accounts.operations import find_user_by_email
from lms.certificates import operations
from lms.certificates.forms import IssueForm, ReissueForm, RestoreForm, RevokeForm
from lms.certificates.models import Certificate
from lms.certificates.views import bp, certificate_or_404
from lms.clock import holds_until, next_moment, now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.extensions import db


def _field_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field or "", None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _staff_detail_page(
    certificate: Certificate,
    revoke_form: RevokeForm,
    reissue_form: ReissueForm,
    status: int = 200,
    restore_form: RestoreForm | None = None,
) -> Any:
    at = now_utc()
    page = render_template(
        "certificates/staff_detail.html",
        certificate=certificate,
        version=certificate.current,
        status=certificate.status_at(at),
        revoke_form=revoke_form,
        reissue_form=reissue_form,
        restore_form=restore_form or RestoreForm(formdata=None),
        url=operations.verification_url(certificate),
    )
    return page, status


def _reissue_form_for(certificate: Certificate) -> ReissueForm:
    form = ReissueForm(formdata=None)
    form.holder_name.data = certificate.user.full_name
    form.template.data = certificate.current.template
    return form


def _staff_certificate(code: str) -> Certificate:
    certificate = certificate_or_404(code)
    loaded = operations.certificate_with_history(certificate.id)
    if loaded is None:
        abort(404)
    return loaded


@bp.route("/staff/certificates")
@staff_required
@kept_page
def staff_list() -> Any:
    query = request.args.get("q", "")[:200]
    suspended = request.args.get("state") == "suspended"  # the review queue
    certificates = operations.list_certificates(query, suspended=suspended)
    now = now_utc()
    # Each row's status changes only when its certificate expires.
    holds_until(next_moment([e for c in certificates if (e := c.current.expires_at) is not None], now))
    return render_template(
        "certificates/staff_list.html",
        certificates=certificates,
        query=query,
        now=now,
        suspended=suspended,
        suspended_count=operations.count_suspended(),
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


@bp.route("/staff/certificates/<code>/restore", methods=["POST"])
@staff_required
def staff_restore(code: str) -> Any:
    certificate = _staff_certificate(code)
    form = RestoreForm()
    if form.validate_on_submit():
        try:
            operations.restore_certificate(certificate, acting_user(), form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"Certificate {certificate.display_code} is restored.", "success")
        return redirect(url_for("certificates.staff_detail", code=certificate.display_code))
    return _staff_detail_page(
        certificate, RevokeForm(formdata=None), _reissue_form_for(certificate), 422, form
    )


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
