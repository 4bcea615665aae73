"""Sending email: through SMTP when LMS_SMTP_HOST is set, otherwise written to the log (development). Only the
notifications' email job calls it (every email, account emails included, is a notice sent by the job queue)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def send_message(message: EmailMessage) -> None:
    """Send a built message (From is filled in when missing). Raises on SMTP failure, so a job can retry it."""
    config = current_app.config
    if "From" not in message:
        message["From"] = config["MAIL_FROM"]
    host = config["MAIL_SMTP_HOST"]
    if not host:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        current_app.logger.info(
            "email (not sent: LMS_SMTP_HOST unset)\nTo: %s\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            text,
        )
        return
    with smtplib.SMTP(host, config["MAIL_SMTP_PORT"], timeout=20) as smtp:
        if config["MAIL_SMTP_STARTTLS"]:
            smtp.starttls()
        if config["MAIL_SMTP_USER"]:
            smtp.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"])
        smtp.send_message(message)
