"""Gradebook forms: a new cohort, and putting students in a cohort."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length


class CohortForm(FlaskForm):
    name = StringField(
        "Cohort name",
        validators=[
            InputRequired("Give the cohort a name."),
            Length(max=100, message="Keep it under 100 characters."),
        ],
    )
    starts_on = DateField(
        "Start date",
        validators=[InputRequired("Enter the date the cohort starts.")],
        description="Due dates counted from a cohort start begin at 00:00 UTC on this day.",
    )


class AssignCohortForm(FlaskForm):
    cohort = SelectField("Put the ticked students in", choices=[], validate_choice=True)
    students = SelectMultipleField("Students", choices=[], coerce=int, validate_choice=False)
