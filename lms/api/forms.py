"""The admin's form for a new API token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from lms.api.tokens import SCOPES
from lms.fields import CheckboxesField


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[InputRequired("Name the token after the system that uses it."), Length(max=100)],
        description="Who or what uses it, e.g. “HR system”.",
    )
    scopes = CheckboxesField(
        "Scopes",
        choices=[SelectChoice(s, s) for s in SCOPES],
        description="Grant only what the system needs.",
    )
    expires_on = DateField(
        "Expires on",
        validators=[InputRequired("Choose the date the token expires.")],
        description="The token stops working at 00:00 UTC on this day (at most three years ahead).",
    )
