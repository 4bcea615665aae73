"""The form to register a webhook endpoint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from lms.fields import CheckboxesField
from lms.webhooks.models import EVENT_TYPES


class EndpointForm(FlaskForm):
    url = StringField(
        "Endpoint URL",
        validators=[
            InputRequired("Enter the endpoint's URL."),
            Length(max=2000, message="Keep it under 2000."),
        ],
        description="Where we POST each event, e.g. https://hr.example.com/hooks/lms.",
    )
    description = StringField(
        "Description", validators=[Length(max=200, message="Keep it under 200 characters.")]
    )
    events = CheckboxesField(
        "Events to send",
        choices=[SelectChoice(event, event) for event in EVENT_TYPES],
        description="Choose at least one.",  # checked by the operation: `required` would demand every box
    )
