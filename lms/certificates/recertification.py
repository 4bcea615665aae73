"""Recertification: renewing asks for fresh evidence, the track's recertification exam passed in the renewal window.

A track's recertification exam is a quiz of kind "recertification" (drawn from the track's bank). Its holder may
start it only inside the renewal window (lms.certificates.validity: from RENEWAL_WINDOW before expiry on); only a
pass that finished at or after the window opened counts, so an earlier pass (of the final exam, or of this exam in
an earlier window) never renews a certificate. Attempts count towards the exam's limit per window. A track without
a recertification exam renews on its completion rule alone, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.certificates.models import HELD_STATES, Certificate
from lms.certificates.validity import RENEWAL_WINDOW, in_renewal_window
from lms.clock import now_utc
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations as quiz_operations
from lms.quizzes.models import Quiz
from lms.timezones import format_time


@dataclass(frozen=True)
class FreshEvidence:
    """What renewing this certificate asks for beyond the track's rule: its recertification exam, if it has one."""

    exam: Quiz | None  # None: the track has no recertification exam
    window_opens: datetime | None  # when the renewal window opens (None: the certificate never expires)
    passed_at: datetime | None  # when a pass that counts finished (None: none yet)

    @property
    def required(self) -> bool:
        return self.exam is not None

    @property
    def met(self) -> bool:
        return self.exam is None or self.passed_at is not None

    @property
    def in_words(self) -> str:
        """What is required, for the renewal page and a refusal."""
        if self.exam is None:
            return ""
        opens = f"{format_time(self.window_opens, 'date')}" if self.window_opens else "the renewal window"
        return (
            f"Pass the recertification exam “{self.exam.title}” on or after {opens}, when the renewal window "
            "opens; passes before then (of the final exam, or of this exam for an earlier renewal) do not count."
        )


def window_opens(certificate: Certificate) -> datetime | None:
    expires = certificate.current.expires_at
    return expires - RENEWAL_WINDOW if expires is not None else None


def fresh_evidence(certificate: Certificate) -> FreshEvidence:
    """The recertification exam of the certificate's track and whether its holder passed it in this window."""
    exam = quiz_operations.recertification_exam(certificate.track_id)
    opens = window_opens(certificate)
    passed_at = None
    if exam is not None and opens is not None:
        passed_at = quiz_operations.passed_since(certificate.user_id, exam.id, opens)
    return FreshEvidence(exam=exam, window_opens=opens, passed_at=passed_at)


def _held_certificate(user_id: int, track_id: int) -> Certificate | None:
    return db.session.execute(
        sa.select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.track_id == track_id,
            Certificate.state.in_(HELD_STATES),
        )
    ).scalar_one_or_none()


def decide_recertification_exam(user: User, quiz: Quiz, track: Track) -> quiz_operations.Unlock:
    """Whether a student may start the track's recertification exam now: a holder, inside the renewal window."""
    certificate = _held_certificate(user.id, track.id)
    if certificate is None:
        return quiz_operations.Unlock(
            False, "The recertification exam is for holders of this track's certificate who are renewing it."
        )
    link = (
        "Your certificate and what renewing it asks",
        "certificates.holder",
        {"code": certificate.display_code},
    )
    if certificate.is_suspended:
        return quiz_operations.Unlock(
            False, "Your certificate is under review: it cannot be renewed until that is settled.", link=link
        )
    opens = window_opens(certificate)
    if opens is None:
        return quiz_operations.Unlock(
            False, "Your certificate does not expire: there is nothing to renew.", link=link
        )
    if not in_renewal_window(certificate, now_utc()):
        return quiz_operations.Unlock(
            False,
            f"The recertification exam opens on {format_time(opens, 'date')}, when your certificate's renewal window opens "
            f"({RENEWAL_WINDOW.days} days before it expires).",
            link=link,
        )
    return quiz_operations.Unlock(True, attempts_since=opens)


@dataclass(frozen=True)
class RenewalNeeds:
    """What renewing asks of the holder now, for the renewal page: the fresh evidence, and the parts of the track's
    rule (as the track stands now) not met."""

    evidence: FreshEvidence
    missing: list[str]

    @property
    def met(self) -> bool:
        return self.evidence.met and not self.missing


def renewal_needs(certificate: Certificate) -> RenewalNeeds:
    from lms.certificates import eligibility

    result = eligibility.check_eligibility(certificate.user_id, certificate.track)
    return RenewalNeeds(fresh_evidence(certificate), [r.label for r in result.missing])
