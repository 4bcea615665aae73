"""Assignment forms: every field labelled, every message written for the person filling it in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from lms.assignments.models import Assignment
from lms.timezones import from_wall_time, reader_zone


class UploadForm(FlaskForm):
    file = FileField(
        "Your file",
        validators=[FileRequired("Choose the file to upload.")],
        description="PDF, Word (DOCX), PowerPoint (PPTX), OpenDocument (ODT), Markdown or plain text.",
    )


class FeedbackFileForm(FlaskForm):
    file = FileField(
        "Feedback file",
        validators=[FileRequired("Choose the feedback file to attach.")],
        description="An annotated copy of the work, or notes: PDF, Word, PowerPoint, OpenDocument, Markdown or "
        "text. The student can download it once the grade is released.",
    )


class FeedbackZipForm(FlaskForm):
    file = FileField(
        "Zip of feedback files",
        validators=[FileRequired("Choose the zip file to upload.")],
        description="The submissions zip, with one feedback file added to each student's folder.",
    )


class ConfirmZipForm(FlaskForm):
    """The token naming the uploaded zip, sent back to confirm what the review showed."""

    token = HiddenField(validators=[InputRequired()])


class SubmitForm(FlaskForm):
    confirm = BooleanField("I confirm that this is the version I want graded")


class ActionForm(FlaskForm):
    """Only the CSRF token, for buttons that change something (release a grade)."""


class GradeForm(FlaskForm):
    """The overall comment and decision; the per-criterion levels and comments are read by `rubric_inputs`."""

    overall_comment = TextAreaField("Overall feedback", validators=[Optional(), Length(max=10000)])
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("pass", "Pass"), SelectChoice("revise", "Return for revision")],
        validators=[Optional()],
        validate_choice=False,  # the operation checks it and explains
    )


def rubric_inputs(assignment: Assignment, data: Any) -> tuple[dict[int, str | None], dict[int, str]]:
    """The level and comment chosen for each criterion, from the posted form (level_<id>, comment_<id>)."""
    levels: dict[int, str | None] = {}
    comments: dict[int, str] = {}
    for criterion in assignment.active_criteria:
        levels[criterion.id] = data.get(f"level_{criterion.id}") or None
        comments[criterion.id] = data.get(f"comment_{criterion.id}", "")
    return levels, comments


class RegradeForm(FlaskForm):
    reason = TextAreaField(
        "Why should the grade be looked at again?",
        validators=[InputRequired("Say which criteria you think were misjudged, and why."), Length(max=2000)],
        description="Name the criteria and point to the parts of your work the grade missed. You can ask once "
        "for each released grade.",
    )


class RegradeAnswerForm(FlaskForm):
    answer = RadioField(
        "Your answer",
        choices=[
            SelectChoice("accept", "Accept: reopen the grade"),
            SelectChoice("decline", "Decline: the grade stands"),
        ],
        validators=[InputRequired("Choose accept or decline.")],
    )
    response = TextAreaField(
        "Reply to the student",
        validators=[InputRequired("Write a reply to the student explaining your answer."), Length(max=2000)],
    )


class ExtensionForm(FlaskForm):
    student = SelectField("Student", coerce=int, validators=[InputRequired("Choose a student.")])
    due_at = DateTimeLocalField(
        "New due date and time",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired("Enter the new due date and time.")],
        description="The cut-off moves with it.",
    )
    reason = TextAreaField(
        "Reason", validators=[InputRequired("Say why the extension is granted."), Length(max=2000)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.due_at.label.text = f"New due date and time ({reader_zone().key})"

    def due_at_utc(self) -> datetime | None:
        """The typed time, on the clock of the staff member's own zone, as UTC."""
        return from_wall_time(self.due_at.data)


class WaiverForm(FlaskForm):
    """An admin excuses a marker from calibrating on a track."""

    user = SelectField(
        "Marker", coerce=int, validators=[InputRequired("Choose a marker.")], validate_choice=False
    )
    reason = TextAreaField(
        "Reason",
        validators=[InputRequired("Say why this marker need not calibrate."), Length(max=2000)],
        description="For example: an experienced external examiner for this certification.",
    )
