"""The admin's user pages (on the accounts blueprint): the list with search and filters, inviting someone,
changing a role, deactivating and reactivating (each after a confirmation page), sending a password reset.
Every change is audited by the verb it calls (lms.accounts.administration, operations.set_role)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from lms.accounts import directory, operations
from lms.accounts.access import acting_user, admin_required
from lms.accounts.forms import EmptyForm, InviteForm, RoleForm
from lms.accounts.kept_pages import kept_page
from lms.accounts.models import Role, User
from lms.accounts.views import _show_error, bp
from lms.errors import DomainError
from lms.extensions import db
from lms.ids import page_number

# The list's filters, kept on every link and redirect back to it.
_FILTERS = ("q", "role", "status", "page")


def _back_to_list() -> Any:
    return redirect(url_for("accounts.admin_users", **{k: v for k in _FILTERS if (v := request.args.get(k))}))


@bp.route("/admin/users")
@admin_required
@kept_page
def admin_users() -> Any:
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    page = directory.list_users(query, role, status, page_number(request.args))
    return render_template(
        "admin/users.html",
        page=page,
        query=query,
        role=role,
        status=status,
        count_cap=directory.COUNT_CAP,
        roles=list(Role),
        form=RoleForm(),
        action_form=EmptyForm(),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def admin_invite_user() -> Any:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = operations.invite_user(
                acting_user(), form.email.data, form.full_name.data, Role(form.role.data)
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash(
                f"{user.full_name} is invited: we emailed {user.email} a link to choose a password.",
                "success",
            )
            return redirect(url_for("accounts.admin_users", q=user.email))
    return render_template("admin/invite_user.html", form=form), 200 if not form.errors else 422


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@admin_required
def admin_set_role(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            operations.set_role(acting_user(), user, Role(form.role.data))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{user.full_name} is now {Role(form.role.data).label.lower()}.", "success")
    else:
        flash("Choose one of the listed roles.", "error")
    return redirect(url_for("accounts.admin_users", **request.args))


def _confirm(
    user: User, *, verb: Any, title: str, explain: str, button: str, done: str, unchanged: str
) -> Any:
    """GET: a page asking to confirm (changes nothing). POST: run `verb(actor, user)`, commit, back to the list."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            changed = verb(acting_user(), user)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            flash(done if changed else unchanged, "success" if changed else "info")
            return _back_to_list()
    context = {"form": form, "user": user, "title": title, "explain": explain, "button": button}
    return render_template("admin/confirm_user.html", **context), 200 if not form.errors else 422


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def admin_deactivate_user(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    return _confirm(
        user,
        verb=operations.deactivate_user,
        title=f"Deactivate {user.full_name}?",
        explain=(
            f"{user.email} will be signed out on every device at once and cannot sign in until reactivated. "
            "Their enrolments, work, grades and certificates stay."
        ),
        button="Deactivate",
        done=f"{user.full_name} is deactivated and signed out everywhere.",
        unchanged=f"{user.full_name} was deactivated already.",
    )


@bp.route("/admin/users/<int:user_id>/reactivate", methods=["GET", "POST"])
@admin_required
def admin_reactivate_user(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    return _confirm(
        user,
        verb=operations.reactivate_user,
        title=f"Reactivate {user.full_name}?",
        explain=f"{user.email} will be able to sign in again with their own password.",
        button="Reactivate",
        done=f"{user.full_name} can sign in again.",
        unchanged=f"{user.full_name} was active already.",
    )


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@admin_required
def admin_send_reset(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            operations.send_reset_for(acting_user(), user)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"We emailed {user.email} a link to choose a new password.", "success")
    return _back_to_list()
