"""The API's web layer: bearer-token authentication and scopes, problem+json errors, rate limits, ETags, the
request log, and the flask-smorest Api that turns the blueprints' schemas into the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, json, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.accounts.access import ACCESS_ATTR
from lms.api import tokens
from lms.api.models import ApiToken
from lms.api.schemas import Problem
from lms.clock import now_utc
from lms.errors import TITLES, DomainError, NotFound, answer_errors_under
from lms.extensions import csrf, db, limiter
from lms.web import serve_without_session

PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"
API_TITLES = {**TITLES, 401: "Unauthorized", 404: "Not found", 409: "Conflict", 422: "Unprocessable content"}
DETAILS = {
    401: "Send a valid API token: Authorization: Bearer lms_...",
    404: "There is no such resource.",
    405: "This resource does not answer that method.",
    429: "Too many requests with this token. Wait until Retry-After says, then try again.",
    500: "Something went wrong on our side. The request id in X-Request-ID helps us find it.",
}


class ApiProblem(HTTPException):
    """An error answered as problem+json: status, detail, and optional extension members (errors, ...)."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = status
        self.detail = detail
        self.extra = extra


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {
        "type": "about:blank",
        "title": API_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
        **{key: value for key, value in extra.items() if value is not None},
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    if status == 401:
        error = ', error="invalid_token"' if _bearer() else ""
        response.headers["WWW-Authenticate"] = f'Bearer realm="lms"{error}'
    return response


def _field_errors(messages: Any) -> dict[str, list[str]]:
    """webargs' {"json": {"email": ["..."]}, "query": {...}} as {"email": ["..."]} (nested fields dotted)."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "body", []).extend(value)
        else:
            flat.setdefault(prefix or "body", []).append(str(value))

    for location, inner in (messages or {}).items():
        walk("" if location in {"json", "query", "form", "view_args"} else str(location), inner)
    return flat


def answer_with_problem(status: int, message: str, exc: BaseException | None) -> Response:
    """Every error under /api/v1 (lms.errors.answer_errors_under): application/problem+json, with the headers the
    error carries (Allow on a 405)."""
    response = _problem_for(status, message, exc)
    if isinstance(exc, HTTPException) and not isinstance(exc, ApiProblem):
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
    return response


def _problem_for(status: int, message: str, exc: BaseException | None) -> Response:
    if isinstance(exc, ApiProblem):
        return problem(status, exc.detail, **exc.extra)
    data = getattr(exc, "data", None) or {}
    if "messages" in data:  # webargs: the query or the body did not validate
        errors = _field_errors(data["messages"])
        if status == 400 and "body" in errors and any("JSON" in m for m in errors["body"]):
            return problem(400, "The body is not valid JSON.", errors=errors)
        return problem(status, "Some of what was sent is not valid: see errors.", errors=errors)
    if isinstance(exc, CSRFError):
        return problem(
            400,
            "A request without a token is checked like a web form, and this one has expired or was not sent from "
            "this site. API clients send a token instead: Authorization: Bearer lms_...",
        )
    return problem(status, DETAILS.get(status, message))


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_token() -> ApiToken | None:
    """The request's token when it is valid (looked up once per request), else None."""
    if "api_token" not in g:
        secret = _bearer()
        g.api_token = tokens.token_for(secret, now_utc()) if secret else None
    return g.api_token  # type: ignore[no-any-return]


def rate_limit_key() -> str:
    token = current_token()
    return f"api-token:{token.id}" if token is not None else f"api-anonymous:{request.remote_addr}"


def requires(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view answers only to a valid token with `scope` (401 without one, 403 naming the scope). A broken rule
    (DomainError) becomes a 422 problem (404 for NotFound), after the transaction is rolled back."""
    if scope not in tokens.SCOPES:
        raise ValueError(f"unknown scope {scope}")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = current_token()
            if token is None:
                raise ApiProblem(
                    401,
                    DETAILS[401]
                    if not _bearer()
                    else "This token is not valid: unknown, expired or revoked.",
                )
            if scope not in token.scopes:
                raise ApiProblem(403, f"This token lacks the scope {scope}.", required_scope=scope)
            refuse_nul_characters()
            try:
                return view(*args, **kwargs)
            except NotFound as error:
                db.session.rollback()
                raise ApiProblem(404, error.message) from error
            except DomainError as error:
                db.session.rollback()
                errors = {error.field: [error.message]} if error.field else None
                raise ApiProblem(422, error.message, errors=errors) from error

        setattr(wrapper, ACCESS_ATTR, f"api-token:{scope}")
        apidoc = getattr(wrapper, "_apidoc", {})
        apidoc.setdefault("manual_doc", {})
        doc = apidoc["manual_doc"]
        doc["security"] = [{"bearerAuth": [scope]}]
        doc["description"] = (doc.get("description", "") + f"\n\nScope: `{scope}`.").strip()
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _nul_in(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_nul_in(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """No text the API takes may hold a NUL character: PostgreSQL cannot store or compare one (it would be a 500),
    and no name, email, slug or code has one."""
    errors: dict[str, list[str]] = {}
    message = "Contains a NUL character (\\u0000), which no value here may hold."
    for name, value in (request.view_args or {}).items():
        if _nul_in(value):
            errors[name] = [message]
    for name, value in request.args.items(multi=True):
        if _nul_in(name) or _nul_in(value):
            errors[name.replace("\x00", "")] = [message]
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        for name, value in body.items():
            if _nul_in(name) or _nul_in(value):
                errors[name.replace("\x00", "")] = [message]
    elif _nul_in(body):
        errors["body"] = [message]
    if errors:
        raise ApiProblem(400, "Some of what was sent holds a NUL character: see errors.", errors=errors)


def acting_admin() -> Any:
    token = current_token()
    assert token is not None  # noqa: S101  (requires() ran first)
    return token.owner


_LIMITED: set[str] = set()


class LmsApi(flask_smorest.Api):
    """flask-smorest's Api whose errors are documented as problem+json and answered by lms.errors (the app's own
    handler), and which serves no documentation blueprint of its own (lms.api.doc_views serves both)."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        return None

    def _register_doc_blueprint(self) -> None:
        return None

    def _register_responses(self) -> None:
        import http

        from flask_smorest.spec import prepare_response

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def install(app: Flask, blueprints: list[flask_smorest.Blueprint]) -> LmsApi:
    app.config.setdefault("API_TITLE", "LMS API")
    app.config.setdefault("API_VERSION", "1.0.0")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "The LMS's REST API. Authenticate with a token an admin creates at /admin/api-tokens: "
                    "`Authorization: Bearer lms_...`. Lists are paged by cursor (`limit`, `cursor`; the next page "
                    "is `next` in the body and in the Link header). Reads carry a strong ETag (send "
                    "If-None-Match for a 304). Every error is application/problem+json (RFC 9457)."
                )
            },
            "servers": [{"url": "/"}],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "lms_..."}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api = LmsApi(app)
    from lms.ids import LARGEST_ID, DatabaseIdConverter

    api.register_converter(
        DatabaseIdConverter, lambda _c: {"type": "integer", "minimum": 0, "maximum": LARGEST_ID}
    )
    for blueprint in blueprints:
        if (
            blueprint.name not in _LIMITED
        ):  # the limiter is one object per process, whatever the number of apps
            limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(blueprint)
            _LIMITED.add(blueprint.name)
        api.register_blueprint(blueprint)
    app.extensions["lms_api"] = api
    answer_errors_under(app, PREFIX, answer_with_problem)
    csrf.exempt_requests(app, lambda: request.path.startswith(PREFIX + "/") and _bearer() is not None)

    @app.after_request
    def _api_response(response: Response) -> Response:
        if not request.path.startswith(PREFIX + "/"):
            return response
        if request.method == "GET" and response.status_code == 200 and not response.is_streamed:
            response.add_etag()
            response.make_conditional(request)
        token = g.get("api_token")
        if token is not None:
            try:
                tokens.record_request(
                    token.id, token.owner_id, request.method, request.path, response.status_code,
                    g.get("request_id"), now_utc(),
                )  # fmt: skip
            except sa.exc.SQLAlchemyError:
                db.session.rollback()
                current_app.logger.exception("could not log an API request")
        # Tokens, never cookies: nothing an API response holds goes into a session cookie.
        serve_without_session()
        return response

    return api
