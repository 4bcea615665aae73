"""Account pages: register, sign in and out, profile, password, and the admin's user list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from lms.accounts import operations
from lms.accounts.access import acting_user, admin_required, anonymous_only, login_required, public
from lms.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    RoleForm,
    TimeZoneForm,
)
from lms.accounts.models import Role, User
from lms.errors import DomainError
from lms.extensions import db, limiter
from lms.mail import send_email

bp = Blueprint("accounts", __name__)


def _login_account_key() -> str:
    return "login-account:" + operations.normalize_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our sign-in page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.dashboard")


def _show_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/register", methods=["GET", "POST"])
@anonymous_only
def register() -> Any:
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = operations.register_user(form.email.data, form.full_name.data, form.password.data)
        except DomainError as error:
            _show_error(form, error)
        else:
            login_user(user)
            flash(f"Welcome, {user.full_name}. Your account is ready.", "success")
            return redirect(url_for("pages.dashboard"))
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
@anonymous_only
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_login_account_key
)
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash(f"Signed in as {user.full_name}.", "success")
            return redirect(_safe_next(form.next.data))
        form.password.errors = ["The email or password is not correct."]
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "success")
    return redirect(url_for("pages.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            operations.update_profile(acting_user(), form.full_name.data, form.email.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    page = render_template("accounts/profile.html", form=form, **_time_zone_form())
    return page, 200 if not form.errors else 422


def _time_zone_form(form: TimeZoneForm | None = None) -> dict[str, Any]:
    """The profile page's time zone block (accounts/_time_zone.html), with the account's choice selected."""
    return {"time_zone_form": form or _account_time_zone_form()}


@bp.app_template_global("account_time_zone_form")
def _account_time_zone_form() -> TimeZoneForm:
    """The block's form where a view rendering the profile page did not give one (it stays self-contained)."""
    return TimeZoneForm(formdata=None, time_zone=acting_user().time_zone or "")


@bp.route("/account/time-zone", methods=["POST"])
@login_required
def set_time_zone() -> Any:
    form = TimeZoneForm()
    if form.validate_on_submit():
        try:
            operations.set_time_zone(acting_user(), form.time_zone.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            zone = form.time_zone.data or None
            flash(
                f"Times are now shown in {zone}." if zone else "Times now follow your browser's time zone.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    page = render_template(
        "accounts/profile.html", form=ProfileForm(formdata=None, obj=current_user), **_time_zone_form(form)
    )
    return page, 422


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(acting_user(), form.current_password.data, form.new_password.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            login_user(acting_user(), remember=False)  # re-issue this session with the new version
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = operations.find_user_by_email(form.email.data)
        if user is not None and user.active:
            token = operations.make_password_reset_token(user)
            link = url_for("accounts.reset_password", token=token, _external=True)
            minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
            send_email(
                user.email,
                "Reset your password",
                f"Hello {user.full_name},\n\nTo choose a new password, open this link within {minutes} minutes:\n\n"
                f"{link}\n\nIf you did not ask for this, ignore this message; your password stays as it is.\n",
            )
        # The same answer whether or not the account exists: the page must not reveal who has one.
        flash("If an account uses that address, we have sent it a link to reset the password.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 200 if not form.errors else 422


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Any:
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password_with_token(token, form.password.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash("Your password is changed. Sign in with the new one.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 200 if not form.errors else 422


@bp.route("/admin/users")
@admin_required
def admin_users() -> Any:
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == role)
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template(
        "admin/users.html", page=page, query=query, role=role, roles=list(Role), form=RoleForm()
    )


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
