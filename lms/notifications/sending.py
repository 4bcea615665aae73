"""Notifying a person: the in-app notice, written in the caller's transaction, and its email, sent by a job.

`notify(...)` is called inside the transaction of the change it reports (from an IN_TRANSACTION event handler or a
periodic job): it honours the person's choice for the kind, keeps the notice, and enqueues the email job in the
same transaction, so a rollback leaves neither. The email job keeps a ledger on the notice (`emailed_at`,
committed right after the message left): a job run again, after a crash or by a second worker whose lease came
round, sends nothing more. The Message-ID is fixed per notice, so even the one narrow window (a crash between the
SMTP server's acceptance and that commit) gives the mail client a duplicate it can recognise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer

from lms import jobs
from lms.accounts.models import User
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.mail import send_message
from lms.notifications.kinds import KINDS
from lms.notifications.models import EMAIL, IN_APP, OFF, Notification, NotificationPreference

EMAIL_JOB = "notifications.email"
_UNSUBSCRIBE_SALT = "lms.notifications.unsubscribe"


def path_for(endpoint: str, **values: Any) -> str:
    """The path of a route, without a request (jobs, event handlers)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(link: str) -> str:
    return link if "://" in link else f"{current_app.config['BASE_URL']}{link}"


def channel_for(user_id: int, kind: str) -> str:
    """How this person wants `kind`: their choice, or email; a kind that cannot be turned off is always emailed."""
    if not KINDS[kind].can_turn_off:
        return EMAIL
    chosen = db.session.execute(
        sa.select(NotificationPreference.channel).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    ).scalar_one_or_none()
    return chosen or EMAIL


def notify(
    user_id: int,
    kind: str,
    subject: str,
    body: str,
    *,
    link: str = "",
    links: Sequence[tuple[str, str]] = (),
    dedupe_key: str | None = None,
    email: bool = True,
) -> Notification | None:
    """Keep a notice for the person (unless they turned the kind off) and enqueue its email (when they chose
    email), in the caller's transaction. With `dedupe_key`, a notice of that key is made once only. `email`
    False: the in-app notice only (an email about the same thing has been written already)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    channel = channel_for(user_id, kind)
    if not email and channel == EMAIL:
        channel = IN_APP
    if channel == OFF:
        return None
    if (
        dedupe_key is not None
        and db.session.execute(
            sa.select(Notification.id).where(Notification.dedupe_key == dedupe_key)
        ).first()
    ):
        return None
    notice = Notification(
        user_id=user_id,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link,
        links=[{"label": label, "url": url} for label, url in links],
        channel=channel,
        dedupe_key=dedupe_key,
        created_at=now_utc(),
    )
    db.session.add(notice)
    db.session.flush()
    if channel == EMAIL:
        jobs.enqueue(EMAIL_JOB, {"notification_id": notice.id})
    return notice


def send_account_email(
    user_id: int,
    subject: str,
    body: str,
    *,
    to: str | None = None,
    link: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """An account email (verification, a changed address told to the old one, ...) through the same path as every
    notice: written in the caller's transaction, sent by the email job with its ledger, never turned off (the
    security kind), and kept out of the in-app list. `to`: an address other than the account's (a new one to
    verify)."""
    if (
        dedupe_key is not None
        and db.session.execute(
            sa.select(Notification.id).where(Notification.dedupe_key == dedupe_key)
        ).first()
    ):
        return None
    notice = Notification(
        user_id=user_id, kind="security", subject=subject[:200], body=body, link=link, links=[], channel=EMAIL,
        dedupe_key=dedupe_key, created_at=now_utc(), email_to=to, listed=False,
    )  # fmt: skip
    db.session.add(notice)
    db.session.flush()
    jobs.enqueue(EMAIL_JOB, {"notification_id": notice.id})
    return notice


def notify_staff(
    kind: str,
    subject: str,
    body: str,
    *,
    roles: tuple[str, ...] = ("instructor", "admin"),
    link: str = "",
    dedupe_key: str | None = None,
) -> int:
    """Notify every active member of staff in `roles` (`dedupe_key`: once per person); returns how many notices
    were kept."""
    staff = db.session.execute(
        sa.select(User.id).where(User.role.in_(roles), User.active.is_(True)).order_by(User.id)
    ).scalars()
    return sum(
        notify(
            user_id,
            kind,
            subject,
            body,
            link=link,
            dedupe_key=f"{dedupe_key}:{user_id}" if dedupe_key else None,
        )
        is not None
        for user_id in list(staff)
    )


# ---- the email ---------------------------------------------------------------------------------------------------


def unsubscribe_token(user_id: int, kind: str) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).dumps([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """The (person, kind) a signed unsubscribe token names, or None when it is forged, damaged or stale."""
    try:
        user_id, kind = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).loads(
            token
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or kind not in KINDS or not KINDS[kind].can_turn_off:
        return None
    return user_id, kind


def _message_id(notice: Notification) -> str:
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{notice.id}".encode()).hexdigest()[:16]
    return f"<notification-{notice.id}-{digest}@{domain}>"


def build_email(notice: Notification, user: User) -> EmailMessage:
    """The message: a plain-text part and an HTML part from templates/notifications/email/, and the
    List-Unsubscribe headers (RFC 2369, one click per RFC 8058) for every kind that may be turned off."""
    kind = KINDS[notice.kind]
    unsubscribe = (
        absolute(path_for("notifications.unsubscribe", token=unsubscribe_token(user.id, kind.name)))
        if kind.can_turn_off
        else ""
    )
    context = {
        "notice": notice,
        "user": user,
        "kind": kind,
        "paragraphs": [p.strip() for p in notice.body.split("\n\n") if p.strip()],
        "link": absolute(notice.link) if notice.link else "",
        "links": [{"label": item["label"], "url": absolute(item["url"])} for item in notice.links],
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute(path_for("notifications.preferences")),
        "organization": current_app.config["ORGANIZATION_NAME"],
    }
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((user.full_name, notice.email_to or user.email))
    message["Subject"] = notice.subject
    message["Message-ID"] = _message_id(notice)
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_template("notifications/email/message.txt", **context))
    message.add_alternative(render_template("notifications/email/message.html", **context), subtype="html")
    return message


def send_notification_email(payload: dict[str, Any]) -> None:
    """The email job: send the notice's email unless the ledger says it left already."""
    query = sa.select(Notification).where(Notification.id == payload["notification_id"])
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    notice = db.session.execute(query).scalar_one_or_none()
    if notice is None or notice.emailed_at is not None:
        return
    user = db.session.get(User, notice.user_id)
    if user is None or not user.active:
        return
    message = build_email(notice, user)
    send_message(message)
    notice.emailed_at = now_utc()
    notice.email_message_id = message["Message-ID"]
    if not notice.listed:
        notice.body = ""  # an account email's links (reset, confirm, undo) are kept no longer than needed
    db.session.commit()  # the ledger, at once: a crash after this never sends the email again


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one notice (or all, with None) of the person as read; returns how many changed."""
    statement = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    changed = db.session.execute(statement.values(read_at=now_utc())).rowcount
    db.session.commit()
    return changed


def unread_count(user_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), Notification.listed.is_(True))
    ).scalar_one()


def notifications_of(user_id: int, limit: int = 100) -> list[Notification]:
    return list(
        db.session.execute(
            sa.select(Notification)
            .where(Notification.user_id == user_id, Notification.listed.is_(True))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        ).scalars()
    )


def preferences_of(user_id: int) -> dict[str, str]:
    rows = db.session.execute(
        sa.select(NotificationPreference.kind, NotificationPreference.channel).where(
            NotificationPreference.user_id == user_id
        )
    )
    chosen = dict(rows.all())
    return {name: (chosen.get(name, EMAIL) if kind.can_turn_off else EMAIL) for name, kind in KINDS.items()}


def set_preference(user_id: int, kind: str, channel: str) -> None:
    """Record the person's channel for a kind (the caller commits). Security notices cannot be turned off."""
    if kind not in KINDS:
        raise DomainError("There is no such kind of notification.", field="kind")
    if channel not in (EMAIL, IN_APP, OFF):
        raise DomainError("Choose email, in-app only, or off.", field=kind)
    if not KINDS[kind].can_turn_off and channel != EMAIL:
        raise DomainError("Security notices are always sent: they cannot be turned off.", field=kind)
    row = db.session.get(NotificationPreference, (user_id, kind))
    if row is None:
        db.session.add(
            NotificationPreference(user_id=user_id, kind=kind, channel=channel, updated_at=now_utc())
        )
    elif row.channel != channel:
        row.channel, row.updated_at = channel, now_utc()
