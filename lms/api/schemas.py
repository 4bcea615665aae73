"""The API's representations and inputs, as marshmallow schemas: the OpenAPI document is generated from these.

Field names are stable (renaming one is a new API version). Times are ISO 8601 in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

ROLES = ("student", "instructor", "admin")
CERTIFICATE_STATES = ("active", "suspended", "revoked")
MAX_LIMIT = 100
# Times the API takes lie within these: far enough from the calendar's ends that no zone conversion overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class UtcDateTime(fields.DateTime):
    """A time as 2026-12-06T00:50:00Z (always UTC, always with the Z)."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class Problem(ma.Schema):
    """RFC 9457 problem details: every error of the API has this shape (application/problem+json)."""

    type = fields.String(required=True, metadata={"description": "A URI naming the kind of problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    instance = fields.String(metadata={"description": "The path of the request"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Per field (query parameter or body member): what is wrong with it"},
    )
    required_scope = fields.String(metadata={"description": "The scope the token lacks (403)"})
    requirements = fields.List(
        fields.Dict(), metadata={"description": "What the student has not met yet (422)"}
    )
    roster = fields.Dict(
        metadata={"description": "A bulk-enrolment file refused for its error rows: every row (422)"}
    )


class PageArgs(Strict):
    limit = fields.Integer(
        load_default=50, validate=validate.Range(1, MAX_LIMIT), metadata={"description": "At most 100"}
    )
    cursor = fields.String(
        validate=validate.Length(max=500), metadata={"description": "The `next_cursor` of the page before"}
    )


class PageMeta(ma.Schema):
    next_cursor = fields.String(allow_none=True, required=True)
    next = fields.String(allow_none=True, required=True, metadata={"description": "The next page's URL"})


# -- users ---------------------------------------------------------------------------------------------------


class UserOut(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(required=True)
    email_confirmed = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)


class UserIn(Strict):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default="student", validate=validate.OneOf(ROLES))


class UserListArgs(PageArgs):
    email = fields.String(validate=validate.Length(max=254))
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


class UserPage(PageMeta):
    items = fields.List(fields.Nested(UserOut), required=True)


# -- cohorts and enrolments ------------------------------------------------------------------------------------


class CohortOut(ma.Schema):
    id = fields.Integer(required=True)
    track = fields.String(required=True)
    name = fields.String(required=True)
    starts_at = UtcDateTime(required=True)
    created_at = UtcDateTime(required=True)


class CohortIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    starts_on = fields.Date(
        required=True,
        validate=validate.Range(EARLIEST.date(), LATEST.date()),
        metadata={"description": "The day it starts (00:00 UTC)"},
    )


class CohortList(ma.Schema):
    items = fields.List(fields.Nested(CohortOut), required=True)


class EnrolmentOut(ma.Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    track = fields.String(required=True)
    cohort_id = fields.Integer(allow_none=True, required=True)
    enrolled_at = UtcDateTime(required=True)
    left_at = UtcDateTime(allow_none=True, required=True)
    active = fields.Boolean(required=True)


class EnrolmentIn(Strict):
    user_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    track = fields.String(required=True, validate=validate.Length(min=1, max=100))
    cohort_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))


class EnrolmentListArgs(PageArgs):
    track = fields.String(validate=validate.Length(max=100))
    cohort_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    user_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class RosterIn(Strict):
    csv = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2 * 1024 * 1024),
        metadata={
            "description": "The file's text: a header row email,name,track[,cohort], then one row a person"
        },
    )
    dry_run = fields.Boolean(
        load_default=True,
        metadata={"description": "true (the default): only the preview; false: apply it, in one transaction"},
    )


class RosterRowOut(ma.Schema):
    line = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    track = fields.String(required=True)
    cohort = fields.String(required=True)
    outcome = fields.String(
        required=True, metadata={"description": "create, enrol, already enrolled, error: ..."}
    )
    note = fields.String(required=True)


class RosterOut(ma.Schema):
    applied = fields.Boolean(required=True)
    sha256 = fields.String(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    new_cohorts = fields.List(fields.String(), required=True)
    created = fields.Integer(required=True)
    enrolled = fields.Integer(required=True)
    cohorts_created = fields.Integer(required=True)
    cohort_moves = fields.Integer(required=True)
    rows = fields.List(fields.Nested(RosterRowOut), required=True)


class EnrolmentPage(PageMeta):
    items = fields.List(fields.Nested(EnrolmentOut), required=True)


# -- certificates ----------------------------------------------------------------------------------------------


class CertificateOut(ma.Schema):
    code = fields.String(required=True, metadata={"description": "As printed: 7KQ2-M9XD-4TRW-H"})
    user_id = fields.Integer(required=True)
    track = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(CERTIFICATE_STATES))
    status = fields.String(
        required=True, metadata={"description": "valid, suspended, expired or revoked, now"}
    )
    holder_name = fields.String(required=True)
    version = fields.Integer(required=True)
    issued_at = UtcDateTime(required=True)
    expires_at = UtcDateTime(allow_none=True, required=True)
    revoked_at = UtcDateTime(allow_none=True, required=True)
    revoked_reason = fields.String(allow_none=True, required=True)
    verify_url = fields.String(required=True)


class CertificateListArgs(PageArgs):
    track = fields.String(validate=validate.Length(max=100))
    state = fields.String(validate=validate.OneOf(CERTIFICATE_STATES))
    user_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    issued_since = fields.AwareDateTime(
        default_timezone=UTC,
        validate=validate.Range(EARLIEST, LATEST),
        metadata={"description": "Issued at or after this time (ISO 8601, between 1970 and 9000)"},
    )


class CertificatePage(PageMeta):
    items = fields.List(fields.Nested(CertificateOut), required=True)


class CertificateIn(Strict):
    user_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    track = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(
        load_default="Completed the track (issued through the API).",
        validate=validate.Length(min=1, max=1000),
    )


class RevokeIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class VerificationOut(ma.Schema):
    code = fields.String(required=True, metadata={"description": "The code as entered"})
    status = fields.String(
        required=True, metadata={"description": "valid, suspended, expired, revoked, not_found or invalid"}
    )
    holder_name = fields.String(allow_none=True, required=True)
    track_title = fields.String(allow_none=True, required=True)
    issued_at = UtcDateTime(allow_none=True, required=True)
    expires_at = UtcDateTime(allow_none=True, required=True)
    revoked_reason = fields.String(allow_none=True, required=True)
    verify_url = fields.String(allow_none=True, required=True)


# -- results ---------------------------------------------------------------------------------------------------


class ModuleProgress(ma.Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)


class Progress(ma.Schema):
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)
    percent = fields.Integer(required=True)
    complete = fields.Boolean(required=True)
    modules = fields.List(fields.Nested(ModuleProgress), required=True)


class QuestionReview(ma.Schema):
    question = fields.String(required=True)
    prompt = fields.String(required=True)
    answer = fields.Raw(allow_none=True, required=True, metadata={"description": "The student's answer"})
    points = fields.Float(required=True)
    max_points = fields.Float(required=True)
    correct_answer = fields.Raw(
        allow_none=True, metadata={"description": "Only where the review policy shows correct answers"}
    )


class AttemptResult(ma.Schema):
    number = fields.Integer(required=True)
    submitted_at = UtcDateTime(allow_none=True, required=True)
    percent = fields.Float(allow_none=True, required=True)
    passed = fields.Boolean(allow_none=True, required=True)
    review = fields.String(required=True, metadata={"description": "score_only, answers or correct_answers"})
    held_back = fields.String(allow_none=True, required=True)
    questions = fields.List(fields.Nested(QuestionReview), metadata={"description": "Unless score_only"})


class QuizResult(ma.Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    passed = fields.Boolean(required=True)
    counting_percent = fields.Float(allow_none=True, required=True)
    attempts = fields.List(fields.Nested(AttemptResult), required=True)


class HandbookGrade(ma.Schema):
    decision = fields.String(allow_none=True, required=True)
    points = fields.Integer(required=True)
    max_points = fields.Integer(required=True)
    released_at = UtcDateTime(allow_none=True, required=True)


class HandbookResult(ma.Schema):
    assignment = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(
        required=True, metadata={"description": "not_submitted, or the latest version's state"}
    )
    version = fields.Integer(allow_none=True, required=True)
    grade = fields.Nested(
        HandbookGrade, allow_none=True, required=True, metadata={"description": "Once released"}
    )


class ResultsOut(ma.Schema):
    user_id = fields.Integer(required=True)
    track = fields.String(required=True)
    progress = fields.Nested(Progress, required=True)
    quizzes = fields.List(fields.Nested(QuizResult), required=True)
    handbooks = fields.List(fields.Nested(HandbookResult), required=True)
    certificate = fields.Nested(CertificateOut, allow_none=True, required=True)
