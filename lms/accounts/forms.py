"""Account forms: every field labelled, every message written for the person filling it in."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length

from lms.accounts.models import Role
from lms.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from lms.timezones import zone_names

EMAIL_MESSAGE = "Enter an email address like name@example.org."


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


password_hint = f"At least {MIN_LENGTH} characters. A few unrelated words together work well."


def _email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[_strip],
        validators=[
            InputRequired("Enter your email address."),
            Length(max=254, message="That email address is too long."),
            Email(message=EMAIL_MESSAGE, check_deliverability=False),
        ],
        render_kw={"autocomplete": "email"},
    )


def _full_name_field() -> StringField:
    return StringField(
        "Full name",
        filters=[_strip],
        validators=[
            InputRequired("Enter your full name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
        description="Printed on your certificates exactly as you type it here.",
        render_kw={"autocomplete": "name"},
    )


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired("Choose a password."), Length(max=MAX_LENGTH)],
        description=password_hint,
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )


class RegisterForm(FlaskForm):
    full_name = _full_name_field()
    email = _email_field()
    password = _new_password_field("Password")
    confirm = PasswordField(
        "Repeat password",
        validators=[InputRequired("Repeat your password."), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class ProfileForm(FlaskForm):
    full_name = _full_name_field()


class EmailChangeForm(FlaskForm):
    email = _email_field("New email address")
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password to change your email address.")],
        description="We ask for it so that nobody who finds you signed in can take over your account.",
        render_kw={"autocomplete": "current-password"},
    )


class TimeZoneForm(FlaskForm):
    """The zone the account's pages show times in; the empty choice follows the browser."""

    time_zone = SelectField(
        "Time zone", validate_choice=False, description="Times are shown in this zone, named."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        browser = SelectChoice("", "Use my browser's time zone")
        self.time_zone.choices = [
            browser,
            *(SelectChoice(name, name.replace("_", " ")) for name in zone_names()),
        ]


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password_field("New password")
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("new_password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = _new_password_field("New password")
    confirm = PasswordField(
        "Repeat new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something (sign out, enrol)."""


class InviteForm(FlaskForm):
    """An admin creates an account for someone, who gets an email to choose their password."""

    email = _email_field()
    full_name = StringField(
        "Full name",
        filters=[_strip],
        validators=[
            InputRequired("Enter the person's full name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
        description="Printed on their certificates; they can correct it later.",
    )
    role = SelectField(
        "Role", choices=[SelectChoice(r.value, r.label) for r in Role], default=Role.STUDENT.value
    )
