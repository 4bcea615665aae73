"""Per-request plumbing: request ids, structured access logs, security headers."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature

from lms import compat

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

# Every response gets these, unless its view set its own value.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),  # when cookies are HTTPS-only
)

# Worked out once: the headers an HTTPS site adds (HSTS included), those a plain-HTTP one adds, and their names.
_HTTPS_HEADERS = SECURITY_HEADERS
_HTTP_HEADERS = tuple(
    (name, value) for name, value in SECURITY_HEADERS if name != "Strict-Transport-Security"
)
_SECURITY_HEADER_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)

access_log = logging.getLogger("lms.access")

# JSON bodies are answers and small commands: far below the upload limit (MAX_CONTENT_LENGTH is for files).
MAX_JSON_BYTES = 256 * 1024


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    """One line per record on stderr, each with the request id: one handler, on the root logger, that every
    record reaches once. Flask's own default handler on the app's logger is removed (it made each of the app's
    records, and each access record, print twice or three times). When the deployment configured logging itself
    (gunicorn's --log-config, a handler already on the root logger), its handlers are the only ones."""
    if app.testing:
        return
    from flask.logging import default_handler

    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    for logger in (app.logger, access_log):
        logger.removeHandler(default_handler)
        for handler in [h for h in logger.handlers if getattr(h, "_lms", False)]:
            logger.removeHandler(handler)
        logger.setLevel(level)
    root = logging.getLogger()
    if root.handlers:  # ours (an earlier app in this process), or the deployment's own
        return
    handler = logging.StreamHandler()
    handler._lms = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)


def install_request_hooks(app: Flask) -> None:
    configure_logging(app)
    install_idle_ping(app)
    app.session_interface = KeptSessionInterface()
    app.jinja_env.globals["url_for"] = TemplateLinks(app)
    tokens = app.extensions["lms_csrf_tokens"] = SessionCsrfTokens(app)
    csrf_tokens = {"csrf_token": tokens}
    app.jinja_env.globals.update(csrf_tokens)
    # Registered after Flask-WTF's context processor, which puts its own csrf_token in every context.
    app.context_processor(lambda: csrf_tokens)

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.before_request
    def refuse_unreadable_json() -> Any:
        """A JSON body too large or nested too deep for the parser gets a clear 4xx here, never a 500 in a view."""
        if not request.is_json or request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
            return None
        limit = int(app.config.get("MAX_JSON_BYTES") or MAX_JSON_BYTES)
        if (request.content_length or 0) > limit:
            return _json_refusal(413, "Request too large", f"Send at most {limit // 1024} KB of JSON.")
        try:
            request.get_json(silent=True)  # parsed once here; the view reads the cached result
        except RecursionError:
            return _json_refusal(400, "Bad request", "The JSON is nested too deeply to read.")
        return None

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        wanted = _HTTPS_HEADERS if app.config["SESSION_COOKIE_SECURE"] else _HTTP_HEADERS
        present = {name.lower() for name, _ in headers.items()}  # one pass, not one scan per header
        if present.isdisjoint(_SECURITY_HEADER_NAMES):  # the usual case: the view set none of them
            headers.extend(wanted)
        else:
            headers.extend((name, value) for name, value in wanted if name.lower() not in present)
        if "request_id" in g:
            headers["X-Request-ID"] = g.request_id
        if app.config.get("ACCESS_LOG") and access_log.isEnabledFor(logging.INFO):
            access_log.info(_access_record(response))
        return response


class TemplateLinks:
    """`url_for` for templates, each link built once per process.

    A page builds the same few dozen links on every request (navigation, stylesheets, the lessons of a module),
    at about 10 µs each in Werkzeug's builder, and a link changes only with the app's routes. Remembered by the
    mount point (script root), the endpoint and its arguments. Links it cannot key safely are built every time:
    external ones (they name the host), blueprint-relative endpoints, arguments that are not hashable. Bounded:
    a full memo starts over.
    """

    LIMIT = 20_000

    def __init__(self, app: Flask) -> None:
        self._build = app.url_for
        self._kept: dict[tuple[Any, ...], str] = {}

    def __call__(self, endpoint: str, /, **values: Any) -> str:
        if endpoint.startswith(".") or "_external" in values or "_scheme" in values:
            return self._build(endpoint, **values)
        try:
            key = (request.script_root, endpoint, *sorted(values.items()))
            link = self._kept.get(key)
        except TypeError:  # an argument that cannot be a key (a list, a dict)
            return self._build(endpoint, **values)
        if link is None:
            link = self._build(endpoint, **values)
            if len(self._kept) >= self.LIMIT:
                self._kept.clear()
            self._kept[key] = link
        return link


class KeptSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with each cookie's signature checked once per process.

    Every signed-in request sends the same cookie until the session changes, and checking it costs a key
    derivation, an HMAC, base64, zlib and JSON. A cookie once found genuine is remembered (by the signing keys
    and its exact text, and by the exact Cookie header that carried it, so that the next request with the same
    header does not even parse its cookies) with what it holds and when it was signed; the age limit is still
    applied at every request. Only sessions holding plain values (the sign-in, the CSRF token) are remembered; one holding
    flashed messages or anything mutable is read afresh. Bounded: a full memo starts over.
    """

    LIMIT = 20_000

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], tuple[dict[str, Any], float]] = {}
        self.now = time.time  # the serializer's own clock (signing times are Unix seconds)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if g.get("lms_stateless"):  # serve_without_session(): nothing of this response goes into a cookie
            return None
        if session and not self.should_set_cookie(app, session):
            # The cookie stays as it is: all Flask's save_session does then is "Vary: Cookie" for a session that
            # was read (after reading seven cookie settings it has no use for, and parsing the Vary header).
            if session.accessed:
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:
                    response.headers["Vary"] = "Cookie"
            return None
        return super().save_session(app, session, response)  # type: ignore[no-any-return]

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if not app.secret_key:
            return super().open_session(app, request)
        name = self.get_cookie_name(app)
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        # Looked up first by the request's whole Cookie header (the same text holds the same cookie, and a hit
        # parses no cookies at all), then by the session cookie itself (another cookie beside it changed).
        header = request.environ.get("HTTP_COOKIE")
        by_header = ("header", keys, name, header)
        kept = self._kept.get(by_header) if header else None
        if kept is None:
            cookie = request.cookies.get(name)
            if not cookie:
                return super().open_session(app, request)
            key = ("cookie", keys, cookie)
            kept = self._kept.get(key)
            if kept is not None:
                self._keep(by_header, kept)
        max_age = app.permanent_session_lifetime.total_seconds()
        if kept is not None:
            data, signed_at = kept
            if 0 <= self.now() - signed_at <= max_age:
                return self.session_class(data)
            return self.session_class()  # expired, as the serializer would have said
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed = serializer.loads(cookie, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(
            isinstance(v, str | int | float | bool | None) for v in data.values()
        ):
            genuine = (dict(data), signed.timestamp())
            self._keep(key, genuine)
            self._keep(by_header, genuine)
        return self.session_class(data)

    def _keep(self, key: tuple[Any, ...], genuine: tuple[dict[str, Any], float]) -> None:
        if len(self._kept) >= self.LIMIT:
            self._kept.clear()
        self._kept[key] = genuine


class CsrfProtection(compat.CSRFProtectBase):
    """Flask-WTF's CSRF protection, doing less work on every POST for the same verdict (the private parts of
    Flask-WTF it builds on are wrapped in lms.compat).

    - A JSON request carries its token in a header (quiz.js sends X-CSRFToken): the header is read first, where
      Flask-WTF looks for a form field first and so has Werkzeug parse the JSON body as a form.
    - With WTF_CSRF_TIME_LIMIT unset, a signed token stays valid as long as the session token it signs, so its
      signature is checked once per process: a token found genuine is remembered with the session token it
      signs, and every request still compares that with its own session's token (and, over HTTPS, checks the
      referrer as Flask-WTF does). Anything else goes through Flask-WTF's own check. Bounded.
    """

    LIMIT = 20_000

    def __init__(self) -> None:
        super().__init__()
        self._genuine: dict[tuple[Any, str], str] = {}

    def exempt_requests(self, app: Flask, predicate: Any) -> None:
        """Skip the check for the requests `predicate()` says carry no ambient credential (the API's bearer-token
        requests, which a browser never sends by itself); every other request of the same route is checked."""
        app.extensions.setdefault("lms_csrf_exempt_when", []).append(predicate)

    def sent_token(self) -> str | None:
        if request.is_json:
            for header in current_app.config["WTF_CSRF_HEADERS"]:
                if token := request.headers.get(header):
                    return str(token)
        return super().sent_token()

    def protect(self, apply_exemptions: bool = False) -> None:
        config = current_app.config
        if apply_exemptions and any(p() for p in current_app.extensions.get("lms_csrf_exempt_when", ())):
            return None
        if (
            config.get("WTF_CSRF_TIME_LIMIT") is not None
            or request.method not in config["WTF_CSRF_METHODS"]
            or (apply_exemptions and (not request.endpoint or self.is_exempt()))
        ):
            return super().protect(apply_exemptions)  # type: ignore[no-any-return]
        field = config["WTF_CSRF_FIELD_NAME"]
        token, own = self.sent_token(), session.get(field)
        key = (config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, token or "")
        signed_for = self._genuine.get(key)
        if signed_for is None or not isinstance(own, str) or not hmac.compare_digest(own, signed_for):
            super().protect(apply_exemptions)  # the full check; it refuses with its own message
            if token and isinstance(own, str):
                if len(self._genuine) >= self.LIMIT:
                    self._genuine.clear()
                self._genuine[key] = own
            return None
        if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self.refuse("The referrer header is missing.")
            if not compat.same_origin(request.referrer, f"https://{request.host}/"):
                self.refuse("The referrer does not match the host.")
        compat.mark_csrf_valid()
        return None


class SessionCsrfTokens:
    """`csrf_token()` for templates, signed once per session and process instead of on every page.

    Flask-WTF signs the session's random token anew for each request (an HMAC, a timestamp, zlib); with
    WTF_CSRF_TIME_LIMIT unset a token signed earlier for the same session token stays exactly as valid, so the
    signed form is remembered by the session token it signs (only a request carrying that session can ask for
    it). With a time limit set, every request signs afresh as before. Bounded: a full memo starts over.
    """

    LIMIT = 20_000

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._kept: dict[str, str] = {}

    def __call__(self) -> str:
        config = self._app.config
        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        signed = compat.request_csrf_token(field)
        if signed is not None:
            return signed
        raw = session.get(field)
        if config.get("WTF_CSRF_TIME_LIMIT") is not None or not isinstance(raw, str):
            return str(generate_csrf())
        signed = self._kept.get(raw)
        if signed is None:
            signed = str(generate_csrf())
            if len(self._kept) >= self.LIMIT:
                self._kept.clear()
            self._kept[raw] = signed
        compat.keep_request_csrf_token(field, signed)  # forms and generate_csrf read it there
        return signed


def csrf_token() -> str:
    """This request's signed CSRF token, as templates get it (SessionCsrfTokens)."""
    return str(current_app.extensions["lms_csrf_tokens"]())


def _json_refusal(status: int, error: str, message: str) -> Response:
    from lms.errors import error_format_for

    answer = error_format_for(request.path)
    if answer is not None:
        return answer(status, message, None)  # type: ignore[no-any-return]
    response = jsonify(error=error, message=message, status=status)
    response.status_code = status
    return response


def install_idle_ping(app: Flask) -> None:
    """Check a pooled database connection before use only when it sat idle for a while.

    SQLAlchemy's pool_pre_ping costs a round trip on every request; a connection in steady use has just proven
    itself. One that sat idle longer than DATABASE_IDLE_PING_SECONDS (where a restarted server or a firewall may
    have dropped it) is pinged, and replaced if dead. A server restart under load costs at most the request that
    meets a dead connection first: SQLAlchemy then recycles every connection of that pool. SQLite needs no ping.
    """
    from lms.database import statement_engine
    from lms.extensions import db

    with app.app_context():
        engines = {db.engine, statement_engine()}
    for engine in engines:
        _ping_when_idle(app, engine)


def _ping_when_idle(app: Flask, engine: sa.Engine) -> None:
    idle_seconds = float(app.config.get("DATABASE_IDLE_PING_SECONDS") or 0)
    if engine.dialect.name == "sqlite" or idle_seconds <= 0 or engine.pool._pre_ping:
        return

    @sa.event.listens_for(engine, "checkin")
    def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["lms_idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("lms_idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError("an idle database connection was dropped") from exc


def _access_record(response: Response) -> str:
    record: dict[str, Any] = {
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
        "addr": request.remote_addr,
    }
    return json.dumps(record, separators=(",", ":"))


def serve_without_session() -> None:
    """This response sets no session cookie, whatever the request's hooks did to the session (API responses:
    their clients authenticate with tokens, and a cookie would only be ambient authority for a browser)."""
    g.lms_stateless = True


def serve_as_anonymous() -> None:
    """This request's page is the same for everyone (public verification documents): Flask-Login finds an
    anonymous user already and never reads the session, and the page's flash list is empty (messages waiting in
    the session stay there for the next page), so the response depends on the URL alone and sets no cookie."""
    from flask.globals import request_ctx

    from lms.extensions import login_manager

    compat.set_request_user(login_manager.anonymous_user())
    request_ctx.flashes = []
