"""Domain errors raised by operations, and the friendly error pages (HTML or JSON) the app answers with."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
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
}


def wants_json() -> bool:
    if request.is_json or request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in {"application/json", "application/ld+json"}


def error_response(status: int, message: str) -> Any:
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
        return error_response(exc.code, _message_for(exc))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return handle_http(exc)
        app.logger.exception("unhandled error (request id %s)", g.get("request_id"))
        return error_response(500, InternalServerError.description)
