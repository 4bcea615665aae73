"""Certificate forms: every field labelled, every message written for the person filling it in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from lms.certificates.history import MAX_REASON_LENGTH, TEMPLATES


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _reason_field(label: str, description: str, field_id: str | None = None) -> TextAreaField:
    """A required reason. `field_id` keeps ids unique where two forms share a page (revoke and reissue)."""
    return TextAreaField(
        label,
        filters=[_strip],
        validators=[
            DataRequired("Give a reason; it is kept in the certificate's history."),
            Length(max=MAX_REASON_LENGTH, message=f"Keep the reason under {MAX_REASON_LENGTH} characters."),
        ],
        description=description,
        render_kw={"rows": 3},
        id=field_id,
    )


class VerifyForm(FlaskForm):
    """The public lookup form: a GET form, so it needs no session and no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(
        "Certificate code",
        filters=[_strip],
        validators=[InputRequired("Enter the code printed on the certificate.")],
        description="As printed on the certificate, for example 7KQ2-M9XD-4TRW-H. Case, spaces and dashes do not matter.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )


class BulkVerifyForm(FlaskForm):
    codes = TextAreaField(
        "Certificate codes",
        filters=[_strip],
        validators=[Optional(), Length(max=40_000, message="Paste at most 500 codes at a time.")],
        description="One code per line (or separated by commas). Up to 500 codes.",
        render_kw={"rows": 8, "spellcheck": "false"},
    )
    file = FileField(
        "Or upload a list (CSV or plain text)",
        validators=[Optional(), FileSize(max_size=256 * 1024, message="Upload a list of at most 256 KB.")],
        description="A .csv or .txt file with one code per line; a header line named “code” is skipped.",
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )


class IssueForm(FlaskForm):
    email = EmailField(
        "Student's email",
        filters=[_strip],
        validators=[
            InputRequired("Enter the student's email address."),
            Email(message="Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )
    track = SelectField("Track", validators=[InputRequired("Choose a track.")])
    reason = _reason_field("Reason", "Why this certificate is issued by hand (kept in its history).")


class RevokeForm(FlaskForm):
    reason = _reason_field(
        "Reason for revoking",
        "Shown to anyone who verifies this certificate. Revoking cannot be undone.",
        field_id="revoke-reason",
    )


class RestoreForm(FlaskForm):
    reason = _reason_field(
        "Reason for restoring",
        "Kept in the certificate's history. If its basis still does not hold, your decision stands until it does.",
        field_id="restore-reason",
    )


class ReissueForm(FlaskForm):
    holder_name = StringField(
        "Name on the certificate",
        filters=[_strip],
        validators=[DataRequired("Enter the name as it should be printed."), Length(max=200)],
    )
    template = SelectField("Template", choices=[SelectChoice(key, label) for key, label in TEMPLATES.items()])
    reason = _reason_field(
        "Reason for reissuing",
        "For example: name corrected at the holder's request.",
        field_id="reissue-reason",
    )


class RenewForm(FlaskForm):
    """Only the CSRF token: the holder presses Renew."""
