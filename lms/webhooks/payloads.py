"""What each webhook says: the Standard Webhooks shape {"type", "timestamp", "data"}, built from the rows the domain
event names, at the moment of the event (what was true then). Stable public ids only (certificate code and verify
URL, user id and email, track and quiz slugs); nothing the event does not need (no names of staff, no comments,
no answers). Reads only, never a rule of the feature that owns the rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lms import events
from lms.extensions import db


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def envelope(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The exact text sent (and signed): compact, keys sorted, so it reads the same wherever it is built."""
    body = {"type": event_type, "timestamp": iso(at), "data": data}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _user(user_id: int) -> dict[str, Any]:
    from lms.accounts.models import User

    user = db.session.get(User, user_id)
    return {"id": user_id, "email": user.email if user is not None else None}


def _track(track_id: int) -> dict[str, Any]:
    from lms.courses.models import Track

    track = db.session.get(Track, track_id)
    if track is None:
        return {"slug": None, "title": None}
    return {"slug": track.slug, "title": track.title}


def _certificate(certificate_id: int) -> dict[str, Any] | None:
    from lms.certificates import operations as certificates
    from lms.certificates.models import Certificate

    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return None
    version = certificate.current
    return {
        "code": certificate.display_code,
        "verify_url": certificates.verification_url(certificate),
        "state": certificate.state,
        "version": certificate.version_number,
        "issued_at": iso(version.issued_at) if version is not None else None,
        "expires_at": iso(version.expires_at) if version is not None else None,
        "track": _track(certificate.track_id),
        "holder": _user(certificate.user_id),
    }


def certificate_data(event: events.CertificateEvent) -> dict[str, Any] | None:
    certificate = _certificate(event.certificate_id)
    if certificate is None:
        return None
    data: dict[str, Any] = {"certificate": certificate}
    if isinstance(event, events.CertificateRevoked | events.CertificateSuspended):
        data["reason"] = event.reason  # the public verify page says it too
    if isinstance(event, events.CertificateIssued):
        data["issued_by"] = "completion" if event.actor_id is None else "staff"
    return data


def grade_data(event: events.GradeReleased) -> dict[str, Any] | None:
    from lms.assignments.models import Submission

    submission = db.session.get(Submission, event.submission_id)
    if submission is None:
        return None
    grade = submission.grade
    return {
        "submission": {"id": submission.id, "version": submission.version},
        "assignment": {"slug": submission.assignment.slug, "title": submission.assignment.title},
        "track": _track(event.track_id),
        "student": _user(event.user_id),
        "release_number": event.release_number,
        "passed": event.passed,
        "points": grade.points if grade is not None else None,
        "max_points": grade.max_points if grade is not None else None,
        "released_at": iso(grade.released_at) if grade is not None else None,
    }


def enrolment_data(event: events.Enrolled) -> dict[str, Any] | None:
    from lms.courses.models import Enrollment

    enrollment = db.session.execute(
        db.select(Enrollment).where(
            Enrollment.user_id == event.user_id, Enrollment.track_id == event.track_id
        )
    ).scalar_one_or_none()
    return {
        "student": _user(event.user_id),
        "track": _track(event.track_id),
        "enrolled_at": iso(enrollment.enrolled_at) if enrollment is not None else None,
    }


def attempt_data(event: events.AttemptSubmitted) -> dict[str, Any] | None:
    from lms.quizzes.models import Attempt, Quiz

    attempt = db.session.get(Attempt, event.attempt_id)
    quiz = db.session.get(Quiz, event.quiz_id)
    if attempt is None or quiz is None:
        return None
    return {
        "attempt": {
            "id": attempt.id,
            "number": attempt.number,
            "submitted_at": iso(attempt.submitted_at),
            "submitted_by": "server" if event.by_server else "student",
            "percent": attempt.percent,
            "passed": event.passed,
        },
        "quiz": {"slug": quiz.slug, "title": quiz.title},
        "track": _track(event.track_id),
        "student": _user(event.user_id),
    }


# Domain event -> (webhook event type, the data builder).
BUILDERS: dict[type[events.Event], tuple[str, Callable[[Any], dict[str, Any] | None]]] = {
    events.CertificateIssued: ("certificate.issued", certificate_data),
    events.CertificateSuspended: ("certificate.suspended", certificate_data),
    events.CertificateRevoked: ("certificate.revoked", certificate_data),
    events.CertificateReissued: ("certificate.reissued", certificate_data),
    events.GradeReleased: ("grade.released", grade_data),
    events.Enrolled: ("enrolment.created", enrolment_data),
    events.AttemptSubmitted: ("quiz.attempt.submitted", attempt_data),
}
