"""Bulk enrolment forms: the upload, and the Apply button carrying the staged file's key and SHA-256."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField

from lms.roster.parsing import MAX_BYTES, MAX_ROWS


class RosterUploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[
            FileRequired("Choose the CSV file to preview."),
            FileSize(
                max_size=MAX_BYTES, message=f"Upload a file of at most {MAX_BYTES // (1024 * 1024)} MB."
            ),
        ],
        description=(
            f"Columns email, name, track and (optionally) cohort, with a header row; commas or semicolons; "
            f"UTF-8; at most {MAX_ROWS:,} rows. Nothing is written until you press Apply on the preview."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )


class RosterApplyForm(FlaskForm):
    key = HiddenField()
    sha256 = HiddenField()
