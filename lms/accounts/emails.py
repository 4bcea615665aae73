"""Every email the accounts feature sends is written through `send_account_email`, from a text template under
templates/accounts/email/ (its first line is `Subject: ...`), and leaves by the notifications path (issue 19): a
notice row and its email job added to the caller's transaction, sent by the job queue with the notice's ledger
(a job run twice sends one email). So a change that rolls back sends nothing, and the caller commits once, after
the email is written. The notifications feature wraps the text in its two-part message (plain text and HTML,
"Hello <name>," above it and the footer below).

Links in these emails are built from the configured public address (LMS_BASE_URL), never from the request's Host
header, which a client chooses: a forged Host must not turn a reset link into one that points elsewhere.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from lms.accounts.models import User

TEMPLATE_FOLDER = "accounts/email"


def link(endpoint: str, **values: Any) -> str:
    """An absolute link to one of our pages, under the public address (which may carry a path of its own)."""
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values)
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def render_account_email(template: str, user: User, **context: Any) -> tuple[str, str]:
    """The subject and the body of `templates/accounts/email/<template>.txt`, written for `user`."""
    text = render_template(
        f"{TEMPLATE_FOLDER}/{template}.txt",
        organization=current_app.config["ORGANIZATION_NAME"],
        user=user,
        **context,
    )
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{template}.txt must start with a 'Subject: ...' line")
    return first.removeprefix("Subject:").strip(), body.strip("\n")


def send_account_email(user: User, template: str, *, to: str | None = None, **context: Any) -> None:
    """Write the email `template` about `user`'s account into the caller's transaction (the caller commits; a
    rollback sends nothing). It goes to `to` (a new address to confirm), by default the account's address as it
    is now: pinned, so a job that runs late (the mail server was down) never sends a notice meant for the old
    address to a new one that took the account meanwhile."""
    # Imported here: notifications build on accounts (its models), so accounts reach it only when sending.
    from lms.notifications import operations as notifications

    subject, body = render_account_email(template, user, **context)
    notifications.send_account_email(user.id, subject, body, to=to or user.email)
