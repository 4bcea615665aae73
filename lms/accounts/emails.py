"""Every email the accounts feature sends leaves through `send_account_email`, written from a text template
under templates/accounts/email/ (its first line is `Subject: ...`). One choke point: a queue can take it over
without any caller changing.

Links in these emails are built from the configured public address (LMS_BASE_URL), never from the request's Host
header, which a client chooses: a forged Host must not turn a reset link into one that points elsewhere.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from lms.mail import send_email

TEMPLATE_FOLDER = "accounts/email"


def link(endpoint: str, **values: Any) -> str:
    """An absolute link to one of our pages, under the public address (which may carry a path of its own)."""
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values)
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def send_account_email(to: str, template: str, **context: Any) -> None:
    """Write `templates/accounts/email/<template>.txt` with `context` and send it to `to`."""
    text = render_template(
        f"{TEMPLATE_FOLDER}/{template}.txt",
        organization=current_app.config["ORGANIZATION_NAME"],
        **context,
    )
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{template}.txt must start with a 'Subject: ...' line")
    send_email(to, first.removeprefix("Subject:").strip(), body.lstrip("\n"))
