"""Domain errors raised by operations, and the friendly error pages (HTML or JSON) the app answers with."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError


class DomainError(Exception):
    """A rule was broken; the message is written for the person who broke it. `field` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    410: "Gone",
    413: "File too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
    507: "Storage full",
}
DATABASE_DOWN = "The site cannot reach its database just now. Your request was not carried out."
STORAGE_FULL = (
    "The site has run out of storage space, so your file was not saved. Please try again later; "
    "your earlier uploads are safe."
)
# What the database driver raises when it cannot be reached (or the pool waited too long for a connection): the
# site is unavailable, not broken. Errors in a statement itself (IntegrityError, ProgrammingError) stay 500s.
DATABASE_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


class StorageFull(Exception):
    """The disk (or the filesystem quota) filled up while a file was written; nothing of it was kept. Not a
    DomainError: no form can fix it, so every page answers it the same way, with the 507 page."""

    def __init__(self) -> None:
        super().__init__(STORAGE_FULL)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EDQUOT}


ErrorFormat = Callable[[int, str, BaseException | None], Any]


def answer_errors_under(app: Flask, prefix: str, answer: ErrorFormat) -> None:
    """Every error of a request whose path starts with `prefix` is answered by `answer(status, message, exc)`
    (the API's application/problem+json) instead of the page or the plain JSON below: routing errors (404, 405),
    refusals (CSRF, rate limits), the 500, 503 and 507 alike. A feature registers it in its register(app)."""
    app.extensions.setdefault("lms_error_formats", []).append((prefix, answer))


def error_format_for(path: str) -> ErrorFormat | None:
    for prefix, answer in current_app.extensions.get("lms_error_formats", ()):
        if path.startswith(prefix):
            return answer  # type: ignore[no-any-return]
    return None


def wants_json() -> bool:
    if request.is_json or request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in {"application/json", "application/ld+json"}


def error_response(status: int, message: str, exc: BaseException | None = None) -> Any:
    answer = error_format_for(request.path)
    if answer is not None:
        return answer(status, message, exc)
    if wants_json():
        return jsonify(error=TITLES.get(status, "Error"), message=message, status=status), status
    template = f"errors/{status}.html" if status in {403, 404, 413, 429, 500} else "errors/generic.html"
    return (
        render_template(
            template,
            status=status,
            title=TITLES.get(status, "Error"),
            message=message,
            request_id=g.get("request_id"),
        ),
        status,
    )


def _message_for(exc: HTTPException) -> str:
    if exc.code == 413:
        limit_mb = (request.max_content_length or 0) // (1024 * 1024)
        return f"The file is larger than this site accepts ({limit_mb} MB). Please upload a smaller file."
    if exc.code == 429:
        return "Too many attempts in a short time. Please wait a minute and try again."
    if exc.code == 404:
        return "We could not find that page. Check the address, or go back to your dashboard."
    if exc.code == 403:
        return "Your account does not have access to this page."
    if exc.code == 400 and exc.description and "CSRF" in exc.description:
        return "This form has expired or was not sent from this site. Reload the page and try again."
    return exc.description or TITLES.get(exc.code or 500, "Error")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        return error_response(exc.code, _message_for(exc), exc)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return handle_http(exc)
        if isinstance(exc, DATABASE_UNAVAILABLE):
            app.logger.error("database unavailable (request id %s): %s", g.get("request_id"), exc)
            _forget_the_transaction()
            return _database_down()
        if isinstance(exc, StorageFull) or is_disk_full(exc):
            app.logger.error("storage full (request id %s): %s", g.get("request_id"), exc)
            _forget_the_transaction()
            return error_response(507, STORAGE_FULL, exc)
        app.logger.exception("unhandled error (request id %s)", g.get("request_id"))
        return error_response(500, InternalServerError.description, exc)


def _forget_the_transaction() -> None:
    """Roll back what the request began; with the database gone, that may fail too, and nothing is lost then."""
    from lms.extensions import db

    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        db.session.close()


def _database_down() -> Any:
    """The 503 answer, built without the template context processors: Flask-Login's would load the signed-in
    user, from the database that is down."""
    headers = {"Retry-After": "30"}
    answer = error_format_for(request.path)
    if answer is not None:
        response = answer(503, DATABASE_DOWN, None)
        response.headers.update(headers)
        return response
    if wants_json():
        return jsonify(error=TITLES[503], message=DATABASE_DOWN, status=503), 503, headers
    page = current_app.jinja_env.get_template("errors/503.html").render(
        status=503, title=TITLES[503], message=DATABASE_DOWN, request_id=g.get("request_id")
    )
    return page, 503, headers
