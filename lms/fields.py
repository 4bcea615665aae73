"""Form fields more than one feature uses (plumbing: knows no feature)."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (API token scopes, webhook events); templates/_macros/forms.html's
    `field` shows it as a fieldset whose legend is the label. Not `required`: that would demand every box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
