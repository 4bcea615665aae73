"""Schemathesis against the app's own OpenAPI document, on both databases: every operation, with a token that has
every scope, over a database with a track, a cohort, an enrolment and a certificate, so that the generated
requests reach real rows. Checks: no 5xx, status codes, content types and bodies as documented.

Bounded (a few examples per operation, derandomized so a failure reproduces) to finish in about a minute."""

from __future__ import annotations

import itertools
import re
from datetime import date
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms.certificates import operations as certificates
from lms.clock import now_utc
from lms.courses import operations as courses
from lms.gradebook import operations as gradebook
from tests.api_support import bearer, make_token
from tests.fixtures.courses.samples import make_track

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_world(app, admin, student):
    track = make_track(slug="sample-track")
    cohort = gradebook.create_cohort(admin, track, "Autumn", date(2026, 9, 1), now_utc())
    enrolment = courses.enrol_for(admin, student, track, cohort.id)
    certificate = certificates.issue_certificate(student, track, admin, "Awarded for the schema test.")
    known = {
        "user_id": student.id,
        "slug": track.slug,
        "track": track.slug,
        "enrolment_id": enrolment.id,
        "code": certificate.display_code,
    }
    return SimpleNamespace(secret=make_token(admin), known=known)


def test_every_operation_keeps_its_documented_promises(app, api_world):
    # Loaded from the running app's own /api/v1/openapi.json, as a client would. One Hypothesis run per operation
    # (schemathesis.pytest.from_fixture needs a pytest private that pytest 9 removed).
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            headers = bearer(api_world.secret)
            case.call_and_validate(headers=headers, checks=CHECKS)
            if case.path_parameters:  # the generated body and query, on rows that exist
                case.path_parameters = {name: api_world.known[name] for name in case.path_parameters}
                case.call_and_validate(headers=headers, checks=CHECKS)
            if case.query:  # the generated path and body, unfiltered and unpaged: every row is in the answer
                case.query = {}
                case.call_and_validate(headers=headers, checks=CHECKS)

        run()


# Values Hypothesis reaches rarely in a few examples, but which broke the API before (a NUL reached PostgreSQL, a
# far-off time overflowed on its way to UTC: both were 500s): each is tried in every parameter and body member.
EDGE_TEXT = ["a\x00b", "\u202e\U0001f600", " ", "x" * 600, "../../etc/passwd", "' OR 1=1 --"]
EDGE_TIMES = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "2026-02-30T00:00:00Z",
    "2026-12-06T12:00:00",
]
EDGE_NUMBERS = [0, -1, 2**31, 2**63]
BODIES = {
    "POST /api/v1/users": {"email": "edge@example.org", "full_name": "Edge Case", "role": "student"},
    "POST /api/v1/tracks/{slug}/cohorts": {"name": "Edge", "starts_on": "2026-09-01"},
    "POST /api/v1/enrolments": {"user_id": 1, "track": "sample-track"},
    "POST /api/v1/certificates": {"user_id": 1, "track": "sample-track", "reason": "Edge"},
    "POST /api/v1/certificates/{code}/revoke": {"reason": "Edge"},
}


def _edges(schema: dict) -> list:
    kind = schema.get("type")
    if schema.get("format") == "date-time":
        return EDGE_TIMES
    if schema.get("format") == "date":
        return ["0001-01-01", "9999-12-31", "2026-02-30"]
    if kind == "integer":
        return EDGE_NUMBERS
    if kind == "boolean":
        return ["maybe"]
    return EDGE_TEXT


def test_every_parameter_takes_the_edge_values_without_a_server_error(app, api_world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(api_world.secret)
    tried = 0
    for operation in [result.ok() for result in schema.get_all_operations()]:
        raw = operation.definition.raw
        path = {name: api_world.known[name] for name in re.findall(r"{(\w+)}", operation.path)}
        query_params = [p for p in raw.get("parameters", []) if p["in"] == "query"]
        body = BODIES.get(operation.label)
        variants = []
        for name in path:
            # (a value with "../" would leave /api/v1 once the client resolves the URL: not the API's to answer)
            variants += [({**path, name: value}, {}, body) for value in EDGE_TEXT if "/" not in value]
        for p in query_params:
            variants += [(path, {p["name"]: value}, body) for value in _edges(p["schema"])]
        if body is not None:
            for name, value in body.items():
                edges = (
                    EDGE_NUMBERS
                    if isinstance(value, int)
                    else _edges({"format": "date"} if "_on" in name else {})
                )
                variants += [(path, {}, {**body, name: edge}) for edge in [*edges, None, ["list"]]]
        for path_parameters, query, payload in variants:
            kwargs = {"body": payload, "media_type": "application/json"} if payload is not None else {}
            case = operation.Case(path_parameters=path_parameters, query=query, **kwargs)
            case.call_and_validate(headers=headers, checks=CHECKS)
            tried += 1
    assert tried > 150
