"""Account pages: register, sign in and out, profile, password (the admin's user pages: admin_views)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.accounts import operations, session_views, throttling
from lms.accounts.access import acting_user, anonymous_only, login_required, public
from lms.accounts.forms import (
    ChangePasswordForm,
    EmailChangeForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    TimeZoneForm,
)
from lms.accounts.redirects import safe_next
from lms.dashboard import Panel, register_panel
from lms.errors import DomainError
from lms.extensions import client_address, db, limiter

bp = Blueprint("accounts", __name__)
bp.register_blueprint(session_views.bp)  # the signed-in devices (accounts.sessions.*)


def _confirm_panel(user: Any) -> dict[str, Any] | None:
    """The dashboard's first panel for an account whose address is not confirmed: it cannot enrol until it is."""
    return {} if getattr(user, "email_verified", True) is False else None


@bp.record_once
def _add_dashboard_panel(state: Any) -> None:
    register_panel(Panel("confirm-email", "accounts/_confirm_panel.html", _confirm_panel, order=0))


def _safe_next(target: str | None) -> str:
    """Only same-site paths (lms.accounts.redirects): an open redirect would let a phishing link borrow our
    sign-in page."""
    return safe_next(target, url_for("pages.dashboard"))


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
            operations.sign_up(form.email.data, form.full_name.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            # The same page whether the address was free or taken: the form must not reveal who has an account.
            return redirect(url_for("accounts.check_inbox"))
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/register/check-inbox")
@public
def check_inbox() -> Any:
    return render_template("accounts/check_inbox.html")


def _throttled(form: LoginForm, refusal: throttling.Refusal) -> Any:
    form.form_errors.append(refusal.message)
    response = current_app.make_response((render_template("accounts/login.html", form=form), 429))
    response.headers["Retry-After"] = str(refusal.seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
@anonymous_only
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email, address = operations.normalize_email(form.email.data), client_address()
        device = request.cookies.get(current_app.config["KNOWN_DEVICE_COOKIE_NAME"])
        known_device = throttling.device_knows(device, email)
        refusal = throttling.refusal(email, address, known_device=known_device)
        if refusal is not None:
            return _throttled(form, refusal)
        user = operations.authenticate(email, form.password.data)
        refused = operations.password_refusal(user) if user is not None else None  # e.g. SSO only (lms.sso)
        if user is not None and refused is None:
            throttling.record_success(email, address)
            operations.record_sign_in(user, known_device=known_device)
            session_views.sign_in(user, remember=bool(form.remember.data))
            flash(f"Signed in as {user.full_name}.", "success")
            return session_views.remember_device(redirect(_safe_next(form.next.data)), device, email)
        if refused is None:
            throttling.record_failure(email, address)
        form.password.errors = [refused or "The email or password is not correct."]
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        session_views.sign_out()
        flash("You are signed out.", "success")
    return redirect(url_for("pages.index"))


def _account_page(
    profile_form: ProfileForm, email_form: EmailChangeForm, time_zone_form: TimeZoneForm | None = None
) -> Any:
    errors = (
        profile_form.errors or email_form.errors or (time_zone_form is not None and time_zone_form.errors)
    )
    page = render_template(
        "accounts/profile.html", form=profile_form, email_form=email_form, **_time_zone_form(time_zone_form)
    )
    return page, 200 if not errors else 422


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            operations.update_profile(acting_user(), form.full_name.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    return _account_page(form, EmailChangeForm(formdata=None))


@bp.route("/account/email", methods=["POST"])
@login_required
def change_email() -> Any:
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            operations.request_email_change(acting_user(), form.email.data, form.current_password.data)
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash(
                "We sent a link to your new address: your account uses it once you open that link. "
                "Your current address was told of the change.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _account_page(ProfileForm(obj=current_user, formdata=None), form)


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
    return _account_page(ProfileForm(formdata=None, obj=current_user), EmailChangeForm(formdata=None), form)


def _resend_key() -> str:
    """Counted per account; the limiter runs before the sign-in check, so a visitor counts by address."""
    claimed = current_user.get_id() if current_user.is_authenticated else None
    return f"confirm-resend:{claimed.split(':', 1)[0] if claimed else client_address()}"


@bp.route("/account/confirm-email/resend", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["CONFIRM_RESEND_LIMIT"], key_func=_resend_key)
def resend_confirmation() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            operations.resend_confirmation(acting_user())
        except DomainError as error:
            flash(error.message, "info")
        else:
            flash(f"We sent a new confirmation link to {acting_user().email}.", "success")
    return redirect(_safe_next(request.form.get("next")))


def _email_link_page(token: str, act: Any, *, title: str, explain: str, button: str) -> Any:
    """A link from an email opens a page with one button (opening a link never changes anything: mail
    scanners open links too); pressing it runs `act(token)`."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            return act(token)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
    context = {"form": form, "title": title, "explain": explain, "button": button}
    return render_template("accounts/email_link.html", **context), 200 if not form.errors else 422


def _after_confirming(message: str) -> Any:
    flash(message, "success")
    return redirect(url_for("pages.dashboard" if current_user.is_authenticated else "accounts.login"))


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
@public
def confirm_email(token: str) -> Any:
    def act(token: str) -> Any:
        user = operations.confirm_email(token)
        return _after_confirming(f"Thank you: {user.email} is confirmed. You can enrol in tracks now.")

    return _email_link_page(
        token,
        act,
        title="Confirm your email address",
        explain="Press the button to confirm that this address is yours.",
        button="Confirm my email address",
    )


@bp.route("/confirm-email-change/<token>", methods=["GET", "POST"])
@public
def confirm_email_change(token: str) -> Any:
    def act(token: str) -> Any:
        user = operations.confirm_email_change(token)
        return _after_confirming(f"Your account now uses {user.email}. Sign in with it from now on.")

    return _email_link_page(
        token,
        act,
        title="Confirm your new email address",
        explain="Press the button to move your account to this address.",
        button="Use this address",
    )


@bp.route("/undo-email-change/<token>", methods=["GET", "POST"])
@public
def undo_email_change(token: str) -> Any:
    def act(token: str) -> Any:
        user = operations.undo_email_change(token)
        session_views.sign_out()  # every session was signed out with it, this one too
        flash(
            f"Your account uses {user.email} again, and every session is signed out. Whoever changed it knew "
            "your password: choose a new one now.",
            "success",
        )
        return redirect(url_for("accounts.reset_password", token=operations.make_password_reset_token(user)))

    return _email_link_page(
        token,
        act,
        title="Undo the change of your email address",
        explain="Press the button to keep your old address, sign out every session and choose a new password.",
        button="Undo the change",
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(
                acting_user(),
                form.current_password.data,
                form.new_password.data,
                keep_session=session_views.this_session_key(),
            )
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            session_views.sign_in_again(acting_user())  # re-issue this session with the new version
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.send_password_reset(form.email.data)
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


# The admin's user pages live in admin_views, on this blueprint: imported last, once `bp` exists.
from lms.accounts import admin_views  # noqa: E402, F401
