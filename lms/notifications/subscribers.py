"""Domain events turned into notices: each handler runs inside the transaction of the change (IN_TRANSACTION), so
the notice and its email job commit with the change, or not at all.

The facts a notice needs (a grade's total, a certificate's code) are read here from the rows the event names:
reads only, never a rule of the feature that owns them."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app

from lms import events
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications.sending import notify, notify_staff, path_for
from lms.timezones import format_for

ACCOUNT_CHANGES = {
    "password": "Your password was changed",
    "email": "The email address of your account was changed",
    "sign_in": "A new sign-in to your account",
    "new_device": "A new sign-in to your account from a new device",
    "role": "Your role on the platform changed",
    "active": "Your account was switched on or off",
}


def on_grade_released(event: events.GradeReleased) -> None:
    from lms.assignments.models import Submission

    submission = db.session.get(Submission, event.submission_id)
    if submission is None:
        return
    grade = submission.grade
    total = f"{grade.points} / {grade.max_points}" if grade is not None else "see the page"
    outcome = "passed" if event.passed else "not yet passed (see the feedback for what to revise)"
    notify(
        event.user_id,
        "grade_released",
        f"Your grade for {submission.assignment.title} is released",
        f"Your handbook \u201c{submission.assignment.title}\u201d is graded: {total} points, {outcome}.\n\n"
        "The rubric breakdown and your grader's comments are on the submission's page.",
        link=path_for("assignments.submission", submission_id=submission.id),
        dedupe_key=f"grade_released:{submission.id}:{event.release_number}",
    )


def on_regrade_answered(event: events.RegradeAnswered) -> None:
    from lms.assignments.models import Submission

    submission = db.session.get(Submission, event.submission_id)
    title = submission.assignment.title if submission is not None else "your handbook"
    answer = (
        "accepted: grading reopens, and you will hear when the new grade is released"
        if event.accepted
        else "declined: the grade stands (the reply is on the submission's page)"
    )
    notify(
        event.user_id,
        "regrade_answered",
        f"Your regrade request for {title} is answered",
        f"Your regrade request for \u201c{title}\u201d was {answer}.",
        link=path_for("assignments.submission", submission_id=event.submission_id),
    )


def on_regrade_requested(event: events.RegradeRequested) -> None:
    from lms.assignments.models import Submission

    submission = db.session.get(Submission, event.submission_id)
    title = submission.assignment.title if submission is not None else "a handbook"
    notify_staff(
        "regrade_requested",
        f"Regrade requested: {title}",
        f"A student asks for the grade of submission #{event.submission_id} (\u201c{title}\u201d) to be looked at "
        "again. Their reason is on the submission's page.",
        link=path_for("assignments.submission", submission_id=event.submission_id),
    )


def _certificate(certificate_id: int):  # type: ignore[no-untyped-def]
    from lms.certificates.models import Certificate

    return db.session.get(Certificate, certificate_id)


def _certificate_links(certificate) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from lms.certificates.operations import verification_url

    version = certificate.current
    params: dict[str, object] = {
        "startTask": "CERTIFICATION_NAME",
        "name": version.track_title,
        "organizationName": current_app.config["ORGANIZATION_NAME"],
        "issueYear": version.issued_at.year,
        "issueMonth": version.issued_at.month,
        "certUrl": verification_url(certificate),
        "certId": certificate.display_code,
    }
    if version.expires_at is not None:
        params["expirationYear"], params["expirationMonth"] = (
            version.expires_at.year,
            version.expires_at.month,
        )
    code = certificate.display_code
    return [
        ("Download the PDF", path_for("certificates.download_pdf", code=code)),
        ("Add it to your LinkedIn profile", "https://www.linkedin.com/profile/add?" + urlencode(params)),
        (
            "Save the signed credential to your wallet",
            path_for("certificates.download_credential", code=code),
        ),
        ("Public verification page", verification_url(certificate)),
    ]


def on_certificate_issued(event: events.CertificateIssued) -> None:
    certificate = _certificate(event.certificate_id)
    if certificate is None:
        return
    version = certificate.current
    holder = db.session.get(User, event.user_id)
    zone = holder.time_zone if holder is not None else None
    expiry = f" It is valid until {format_for(zone, version.expires_at, 'date')}." if version.expires_at else ""
    notify(
        event.user_id,
        "certificate_issued",
        f"Your certificate: {version.track_title}",
        f"Congratulations: your certificate for \u201c{version.track_title}\u201d is issued, with the code "
        f"{certificate.display_code}.{expiry}\n\nAnyone can check it on its public verification page.",
        link=path_for("certificates.holder", code=certificate.display_code),
        links=_certificate_links(certificate),
        dedupe_key=f"certificate_issued:{certificate.id}",
    )


def _certificate_changed(event: events.CertificateEvent, what: str, detail: str, key: str) -> None:
    certificate = _certificate(event.certificate_id)
    if certificate is None:
        return
    title = certificate.current.track_title
    notify(
        event.user_id,
        "certificate_changed",
        f"Your certificate for {title} was {what}",
        f"Your certificate {certificate.display_code} (\u201c{title}\u201d) was {what}.\n\n{detail}",
        link=path_for("certificates.holder", code=certificate.display_code),
        dedupe_key=f"certificate_changed:{certificate.id}:{key}",
    )


def on_certificate_suspended(event: events.CertificateSuspended) -> None:
    _certificate_changed(
        event, "suspended",
        f"Reason: {event.reason}\n\nWhile it is under review its public page says SUSPENDED. You will hear when it "
        "is decided.", f"suspended:{_stamp()}",
    )  # fmt: skip
    if event.actor_id is None:  # the platform did it: its basis changed, and staff should look
        certificate = _certificate(event.certificate_id)
        if certificate is not None:
            notify_staff(
                "certificate_suspended_staff",
                f"Certificate {certificate.display_code} suspended: its basis changed",
                f"The certificate {certificate.display_code} of {certificate.user.full_name} was suspended "
                f"automatically.\n\nReason: {event.reason}\n\nReview it: restore it, or revoke it.",
                link=path_for("certificates.holder", code=certificate.display_code),
            )


def on_certificate_revoked(event: events.CertificateRevoked) -> None:
    _certificate_changed(event, "revoked", f"Reason: {event.reason}", "revoked")


def on_certificate_restored(event: events.CertificateRestored) -> None:
    _certificate_changed(
        event, "restored", f"It is valid again. {event.reason}".strip(), f"restored:{_stamp()}"
    )


def on_certificate_reissued(event: events.CertificateReissued) -> None:
    _certificate_changed(
        event, "reissued",
        f"Version {event.version_number} replaces the earlier one. Reason: {event.reason}\n\nThe code and its "
        "verification page stay the same; download the new PDF from the certificate's page.",
        f"reissued:{event.version_number}",
    )  # fmt: skip


def on_attempt_submitted(event: events.AttemptSubmitted) -> None:
    if not event.by_server:
        return
    from lms.quizzes.models import Quiz

    quiz = db.session.get(Quiz, event.quiz_id)
    title = quiz.title if quiz is not None else "your quiz"
    result = {True: " You passed.", False: " You did not pass this time."}.get(event.passed, "")  # type: ignore[arg-type]
    notify(
        event.user_id,
        "quiz_submitted_by_server",
        f"Your attempt at {title} was submitted at its deadline",
        f"Time ran out on your attempt at \u201c{title}\u201d, so it was submitted for you with the answers you "
        f"had saved.{result}",
        link=path_for("quizzes.result", attempt_id=event.attempt_id),
        dedupe_key=f"quiz_submitted_by_server:{event.attempt_id}",
    )


# Changes whose owner the accounts feature emails itself: an email change is told to the old address when it is
# asked (with the link that undoes it, lms.accounts.operations.request_email_change), so the notice of the change
# is kept in the list without a second email.
EMAILED_BY_ACCOUNTS = frozenset({"email"})


def on_account_changed(event: events.AccountChanged) -> None:
    user = db.session.get(User, event.user_id)
    if user is None:
        return
    subject = ACCOUNT_CHANGES.get(event.what, f"Your account changed ({event.what})")
    by_whom = "" if event.actor_id in (None, event.user_id) else " by a member of staff"
    notify(
        event.user_id,
        "security",
        subject,
        f"{subject}{by_whom} on {format_for(user.time_zone, event.at, 'on')}.\n\nIf this was you, there is nothing to do. If it "
        "was not, reset your password at once and tell us.",
        link=path_for("accounts.profile") if "accounts.profile" in current_app.view_functions else "",
        email=event.what not in EMAILED_BY_ACCOUNTS,
    )


def on_job_dead(event: events.JobDead) -> None:
    if _is_dead_letter_email(event):
        return  # the email about a dead job died too (the mail server is down): the page lists it; no cascade
    notify_staff(
        "jobs_dead",
        f"A background job failed for good: {event.kind}",
        f"Job #{event.job_id} ({event.kind}) failed every retry.\n\nLast error: {event.error}\n\nRetry or discard "
        "it on the dead letters page.",
        roles=("admin",),
        link=path_for("notifications.dead_jobs"),
    )


def _is_dead_letter_email(event: events.JobDead) -> bool:
    from lms.jobs import Job
    from lms.notifications.models import Notification
    from lms.notifications.sending import EMAIL_JOB

    if event.kind != EMAIL_JOB:
        return False
    job = db.session.get(Job, event.job_id)
    notice = db.session.get(Notification, job.payload.get("notification_id")) if job is not None else None
    return notice is not None and notice.kind == "jobs_dead"


def _stamp() -> str:
    from lms.clock import now_utc

    return now_utc().strftime("%Y%m%dT%H%M%S%f")


def subscribe_all() -> None:
    for event_type, handler in (
        (events.GradeReleased, on_grade_released),
        (events.RegradeAnswered, on_regrade_answered),
        (events.RegradeRequested, on_regrade_requested),
        (events.CertificateIssued, on_certificate_issued),
        (events.CertificateSuspended, on_certificate_suspended),
        (events.CertificateRevoked, on_certificate_revoked),
        (events.CertificateRestored, on_certificate_restored),
        (events.CertificateReissued, on_certificate_reissued),
        (events.AttemptSubmitted, on_attempt_submitted),
        (events.AccountChanged, on_account_changed),
        (events.JobDead, on_job_dead),
    ):
        events.subscribe(event_type, handler)
