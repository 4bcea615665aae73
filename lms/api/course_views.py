"""/api/v1 cohorts (per track) and enrolments: create, read, list, and a whole CSV file at once (lms.roster)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_smorest import Blueprint

from lms.accounts.models import User
from lms.api.listing import paged
from lms.api.schemas import (
    CohortIn,
    CohortList,
    CohortOut,
    EnrolmentIn,
    EnrolmentListArgs,
    EnrolmentOut,
    EnrolmentPage,
    RosterIn,
    RosterOut,
)
from lms.api.views import ApiProblem, acting_admin, requires
from lms.clock import now_utc
from lms.courses import operations as courses
from lms.courses.models import Cohort, Enrollment, Track
from lms.errors import DomainError
from lms.extensions import db
from lms.gradebook import operations as gradebook
from lms.roster import operations as roster

bp = Blueprint("api_courses", __name__, url_prefix="/api/v1", description="Cohorts and enrolments")


def cohort_json(cohort: Cohort, track_slug: str) -> dict[str, Any]:
    return {
        "id": cohort.id,
        "track": track_slug,
        "name": cohort.name,
        "starts_at": cohort.starts_at,
        "created_at": cohort.created_at,
    }


def enrolment_json(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id,
        "user_id": enrollment.user_id,
        "track": enrollment.track.slug,
        "cohort_id": enrollment.cohort_id,
        "enrolled_at": enrollment.enrolled_at,
        "left_at": enrollment.left_at,
        "active": enrollment.active,
    }


def find_track(slug: str, field: str | None = None) -> Track:
    track = db.session.scalar(sa.select(Track).where(Track.slug == slug))
    if track is None:
        if field:
            raise ApiProblem(422, "There is no track with this slug.", errors={field: ["No such track."]})
        raise ApiProblem(404, "There is no track with this slug.")
    return track


@bp.route("/tracks/<slug>/cohorts", methods=["GET"])
@requires("enrolments:read")
@bp.response(200, CohortList)
def list_cohorts(slug: str) -> Any:
    """The track's cohorts, earliest start first."""
    track = find_track(slug)
    return {"items": [cohort_json(c, track.slug) for c in gradebook.track_cohorts(track.id)]}


@bp.route("/tracks/<slug>/cohorts", methods=["POST"])
@requires("enrolments:write")
@bp.arguments(CohortIn)
@bp.response(201, CohortOut)
def create_cohort(data: dict[str, Any], slug: str) -> Any:
    """A new cohort of the track (names are unique within a track)."""
    track = find_track(slug)
    cohort = gradebook.create_cohort(acting_admin(), track, data["name"], data["starts_on"], now_utc())
    return cohort_json(cohort, track.slug), 201


@bp.route("/enrolments", methods=["POST"])
@requires("enrolments:write")
@bp.arguments(EnrolmentIn)
@bp.response(201, EnrolmentOut, headers={"Location": {"schema": {"type": "string"}}})
def create_enrolment(data: dict[str, Any]) -> Any:
    """Enrol a user in a track, optionally into one of its cohorts (a left enrolment is reopened)."""
    user = db.session.get(User, data["user_id"])
    if user is None:
        raise ApiProblem(422, "There is no user with this id.", errors={"user_id": ["No such user."]})
    track = find_track(data["track"], field="track")
    enrollment = courses.enrol_for(acting_admin(), user, track, data.get("cohort_id"))
    location = url_for("api_courses.get_enrolment", enrolment_id=enrollment.id)
    return enrolment_json(enrollment), 201, {"Location": location}


@bp.route("/enrolments/bulk", methods=["POST"])
@requires("enrolments:write")
@bp.arguments(RosterIn)
@bp.response(200, RosterOut)
def bulk_enrolments(data: dict[str, Any]) -> Any:
    """A bulk-enrolment file, as on the admin page: with `dry_run` (the default) every row and what applying it
    would do, writing nothing; without, the file applied in one transaction (new accounts get an invitation
    email), unless any row is an error: then nothing is written and the answer is a 422 with the rows. Applying
    the same file again changes nothing."""
    csv_bytes = data["csv"].encode("utf-8")
    actor = acting_admin()
    try:
        if data["dry_run"]:
            return roster_json(roster.preview_roster(csv_bytes, actor))
        result = roster.apply_roster(csv_bytes, actor)
    except DomainError as error:
        db.session.rollback()
        raise ApiProblem(422, error.message, errors={"csv": [error.message]}) from error
    body = roster_json(result.preview, result)
    if not result.applied:
        errors = {f"line {row.line}": [row.reason] for row in result.preview.errors}
        raise ApiProblem(422, "Some rows have errors, so nothing was applied.", errors=errors, roster=body)
    return body


def roster_json(preview: roster.RosterPreview, result: roster.RosterResult | None = None) -> dict[str, Any]:
    def row_json(row: roster.RosterRow) -> dict[str, Any]:
        fields = ("line", "email", "name", "track", "cohort", "outcome", "note")
        return {name: getattr(row, name) for name in fields}

    return {
        "applied": bool(result and result.applied),
        "sha256": preview.sha256,
        "counts": preview.counts,
        "new_cohorts": list(preview.new_cohorts),
        "created": result.created if result else 0,
        "enrolled": result.enrolled if result else 0,
        "cohorts_created": result.cohorts_created if result else 0,
        "cohort_moves": result.cohort_moves if result else 0,
        "rows": [row_json(row) for row in preview.rows],
    }


@bp.route("/enrolments/<int:enrolment_id>", methods=["GET"])
@requires("enrolments:read")
@bp.response(200, EnrolmentOut)
def get_enrolment(enrolment_id: int) -> Any:
    """One enrolment."""
    enrollment = db.session.get(Enrollment, enrolment_id)
    if enrollment is None:
        raise ApiProblem(404, "There is no enrolment with this id.")
    return enrolment_json(enrollment)


@bp.route("/enrolments", methods=["GET"])
@requires("enrolments:read")
@bp.arguments(EnrolmentListArgs, location="query", as_kwargs=True)
@bp.response(200, EnrolmentPage)
def list_enrolments(limit: int, cursor: str | None = None, **filters: Any) -> Any:
    """Enrolments, filtered by track (slug), cohort_id or user_id."""
    stmt = sa.select(Enrollment).options(sa.orm.joinedload(Enrollment.track))
    if filters.get("track"):
        stmt = stmt.join(Track, Track.id == Enrollment.track_id).where(Track.slug == filters["track"])
    if filters.get("cohort_id") is not None:
        stmt = stmt.where(Enrollment.cohort_id == filters["cohort_id"])
    if filters.get("user_id") is not None:
        stmt = stmt.where(Enrollment.user_id == filters["user_id"])
    return paged(
        stmt,
        Enrollment.id,
        "enrolments",
        limit,
        cursor,
        enrolment_json,
        "api_courses.list_enrolments",
        filters,
    )
