"""The periodic notices, run by the job queue (lms.jobs.register_periodic): handbooks falling due, certificates
about to expire, and the staff's daily digest of new submissions.

Each notice carries a dedupe key, so a job that runs twice (a crash, a retry, a missed slot caught up) notifies
once. Reads only, from the rows of the features whose dates they are."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from lms.clock import now_utc
from lms.extensions import db
from lms.notifications.sending import notify, notify_staff, path_for
from lms.timezones import format_for


def _soonest_window(due: datetime, now: datetime, days: tuple[int, ...]) -> int | None:
    """The smallest reminder window (in days) that `due` falls in from `now`, or None when it is past or far."""
    if due <= now:
        return None
    inside = [d for d in days if due <= now + timedelta(days=d)]
    return min(inside) if inside else None


def _in_words(days: int) -> str:
    return "tomorrow" if days == 1 else f"in {days} days"


def handbook_due_reminders(now: datetime | None = None) -> int:
    """Remind each enrolled student whose handbook falls due within a window (3 days, 1 day by default) and who
    has not handed it in; returns how many notices were made."""
    from lms.assignments.models import HANDED_IN, Assignment, Submission
    from lms.assignments.operations import student_deadlines
    from lms.courses.models import Enrollment

    now = now or now_utc()
    days = tuple(current_app.config["NOTIFY_HANDBOOK_DUE_DAYS"])
    handed_in = {
        (row.assignment_id, row.user_id)
        for row in db.session.execute(
            sa.select(Submission.assignment_id, Submission.user_id)
            .where(Submission.state.in_([s.value for s in HANDED_IN]))
            .distinct()
        )
    }
    made = 0
    assignments = db.session.execute(sa.select(Assignment).where(Assignment.retired_at.is_(None))).scalars()
    for assignment in list(assignments):
        students = db.session.execute(
            sa.select(Enrollment.user_id).where(
                Enrollment.track_id == assignment.track_id, Enrollment.left_at.is_(None)
            )
        ).scalars()
        for user_id in list(students):
            if (assignment.id, user_id) in handed_in:
                continue
            dates = student_deadlines(user_id, assignment)
            window = _soonest_window(dates.due_at, now, days) if dates is not None else None
            if dates is None or window is None:
                continue
            made += notify(
                user_id,
                "handbook_due",
                f"{assignment.title} is due {_in_words(window)}",
                f"Your handbook \u201c{assignment.title}\u201d is due {format_for(_zone_of(user_id), dates.due_at)}, and you have not "
                "handed it in yet.",
                link=path_for("assignments.assignment", track_slug=assignment.track.slug, slug=assignment.slug),
                dedupe_key=f"handbook_due:{assignment.id}:{user_id}:{window}:{dates.due_at:%Y%m%dT%H%M}",
            ) is not None  # fmt: skip
    return made


def certificate_expiry_notices(now: datetime | None = None) -> int:
    """Tell holders of valid certificates that expire within a window (60 and 14 days by default) how to renew."""
    from lms.certificates.models import Certificate, CertificateVersion

    now = now or now_utc()
    days = tuple(current_app.config["NOTIFY_CERTIFICATE_EXPIRY_DAYS"])
    rows = db.session.execute(
        sa.select(Certificate, CertificateVersion)
        .join(
            CertificateVersion,
            sa.and_(
                CertificateVersion.certificate_id == Certificate.id,
                CertificateVersion.number == Certificate.version_number,
            ),
        )
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.suspended_at.is_(None),
            CertificateVersion.expires_at > now,
            CertificateVersion.expires_at <= now + timedelta(days=max(days)),
        )
    )
    made = 0
    for certificate, version in list(rows):
        if version.expires_at is None:
            continue
        window = _soonest_window(version.expires_at, now, days)
        if window is None:
            continue
        made += notify(
            certificate.user_id,
            "certificate_expiring",
            f"Your certificate for {version.track_title} expires {_in_words(window)}",
            f"Your certificate {certificate.display_code} (\u201c{version.track_title}\u201d) expires on "
            f"{format_for(_zone_of(certificate.user_id), version.expires_at, 'date')}.\n\nTo renew it, open the certificate's page and choose Renew: the "
            "code stays the same and a new validity period starts.",
            link=path_for("certificates.holder", code=certificate.display_code),
            dedupe_key=f"certificate_expiring:{certificate.id}:{version.number}:{window}",
        ) is not None  # fmt: skip
    return made


def staff_submission_digest(now: datetime | None = None) -> int:
    """One daily email to staff about the handbooks handed in during the last day (none when there were none)."""
    from lms.assignments.models import Assignment, Submission
    from lms.assignments.operations import waiting_count

    now = now or now_utc()
    since = now - timedelta(days=1)
    titles = Counter(
        db.session.execute(
            sa.select(Assignment.title)
            .join(Submission, Submission.assignment_id == Assignment.id)
            .where(Submission.submitted_at > since, Submission.submitted_at <= now)
        ).scalars()
    )
    if not titles:
        return 0
    total = sum(titles.values())
    lines = "\n".join(f"- {title}: {count}" for title, count in sorted(titles.items()))
    return notify_staff(
        "submissions_digest",
        f"{total} new submission{'s' if total != 1 else ''} to grade",
        f"Handed in since {since:%d %B %H:%M} UTC:\n\n{lines}\n\n{waiting_count()} in the grading queue in all.",
        link=path_for("assignments.queue") if "assignments.queue" in current_app.view_functions else "",
        dedupe_key=f"submissions_digest:{now:%Y%m%d}",
    )


def _zone_of(user_id: int) -> str | None:
    """The time zone the person chose for their account (None: UTC in emails)."""
    from lms.accounts.models import User

    user = db.session.get(User, user_id)
    return user.time_zone if user is not None else None
