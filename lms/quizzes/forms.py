"""Quiz forms: starting and submitting (CSRF only; answers are read per question), and the staff forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.timezones import from_wall_time, reader_zone


class ActionForm(FlaskForm):
    """Only the CSRF token: start an attempt, submit it (its answers are read per question)."""


class AccommodationForm(FlaskForm):
    factor = DecimalField(
        "Time factor",
        places=2,
        validators=[
            InputRequired("Enter a time factor such as 1.5."),
            NumberRange(min=1, max=4, message="The time factor must be between 1 (no extra time) and 4."),
        ],
        description="1 = the normal time; 1.5 = half as long again. Applies to every timed quiz.",
        render_kw={"step": "0.05", "min": "1", "max": "4", "inputmode": "decimal"},
    )


class ExtraTimeForm(FlaskForm):
    minutes = IntegerField(
        "Minutes to add",
        validators=[
            InputRequired("Enter how many minutes to add."),
            NumberRange(min=1, max=1440, message="Add between 1 and 1440 minutes."),
        ],
        render_kw={"min": "1", "max": "1440"},
    )


class OverrideForm(FlaskForm):
    student = StringField(
        "Student's email",
        validators=[InputRequired("Enter the student's email."), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    kind = SelectField(
        "Override",
        choices=[
            SelectChoice("extra_attempt", "One extra attempt"),
            SelectChoice("reopen", "Reopen the quiz for this student"),
        ],
    )
    until = DateTimeLocalField(
        "Reopen until",
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description="Only for reopening.",
    )
    note = StringField("Reason (kept with the record)", validators=[Optional(), Length(max=500)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.until.label.text = f"Reopen until ({reader_zone().key})"

    def until_utc(self) -> datetime | None:
        """The typed time, on the clock of the staff member's own zone, as UTC."""
        return from_wall_time(self.until.data)
