"""Sending email: through SMTP when LMS_SMTP_HOST is set, otherwise written to the log (development)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def send_email(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)

    host = config["MAIL_SMTP_HOST"]
    if not host:
        current_app.logger.info(
            "email (not sent: LMS_SMTP_HOST unset)\nTo: %s\nSubject: %s\n\n%s", to, subject, body
        )
        return
    with smtplib.SMTP(host, config["MAIL_SMTP_PORT"], timeout=20) as smtp:
        if config["MAIL_SMTP_STARTTLS"]:
            smtp.starttls()
        if config["MAIL_SMTP_USER"]:
            smtp.login(config["MAIL_SMTP_USER"], config["MAIL_SMTP_PASSWORD"])
        smtp.send_message(message)
