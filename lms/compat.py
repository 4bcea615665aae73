"""The private parts of Flask-Login and Flask-WTF this code relies on, each behind one wrapper of our own.

Nothing else in lms/ should reach for an underscored name of either library: it goes through here, where each
wrapper says which library versions it was checked against, and tests/test_compat.py fails naming the library
and its version when an upgrade changes what a wrapper relies on (the attribute, its signature, its behaviour).
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import current_app, g, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from flask_wtf.csrf import same_origin as _same_origin

# The releases every wrapper below was read against and is tested with (tests/test_compat.py). The floors in
# pyproject.toml are the lowest of them: Flask-WTF 1.3 brought protect(apply_exemptions).
FLASK_LOGIN_CHECKED = ("0.6.3",)
FLASK_WTF_CHECKED = ("1.3.0",)

# --- Flask-Login -----------------------------------------------------------------------------------------------

# Flask-Login 0.6.3: login_user() stores user.get_id() under this session key, and the loader reads it back.
LOGIN_SESSION_USER_KEY = "_user_id"


def session_user_id() -> Any:
    """What the signed session names as its user (User.get_id(): "id:session_version"), before any loading;
    None without one. Checked against Flask-Login 0.6.3 (session["_user_id"])."""
    return session.get(LOGIN_SESSION_USER_KEY)


def session_protection_failed() -> bool:
    """Whether Flask-Login's session protection refuses this request's session ("strong" mode and a changed
    identifier: it then empties the session, as before loading a user). Checked against Flask-Login 0.6.3
    (LoginManager._session_protection_failed(), no arguments)."""
    return bool(current_app.login_manager._session_protection_failed())  # type: ignore[attr-defined]


def request_user_loaded() -> bool:
    """Whether this request has its user already (loaded by Flask-Login, or set by set_request_user). Checked
    against Flask-Login 0.6.3 (flask_login.utils._get_user keeps it in g._login_user)."""
    return "_login_user" in g


def request_user() -> Any:
    """This request's user if it has one already, without loading it (None otherwise). Checked against
    Flask-Login 0.6.3 (g._login_user)."""
    return g.get("_login_user")


def set_request_user(user: Any) -> None:
    """Make `user` this request's user (current_user), so Flask-Login loads nobody. Checked against Flask-Login
    0.6.3 (flask_login.utils._get_user returns g._login_user and loads only when it is missing)."""
    g._login_user = user


# --- Flask-WTF ---------------------------------------------------------------------------------------------------


class CSRFProtectBase(CSRFProtect):
    """Flask-WTF's CSRFProtect with the private methods a subclass needs under names of our own.

    Checked against Flask-WTF 1.3.0: its before_request hook calls protect(apply_exemptions=True) (the parameter
    is new in 1.3; with 1.2 the hook checks exemptions itself and calls protect()), protect() reads the request's
    token through _get_csrf_token() and refuses through _error_response(), and _is_exempt() answers for
    @csrf.exempt views and blueprints.
    """

    def _get_csrf_token(self) -> str | None:  # Flask-WTF 1.3.0: protect() reads the request's token here
        return self.sent_token()

    def sent_token(self) -> str | None:
        """The CSRF token the request carries; by default where Flask-WTF looks (a form field, then the
        WTF_CSRF_HEADERS). Override to look elsewhere first: Flask-WTF's own check then reads it too."""
        return CSRFProtect._get_csrf_token(self)  # type: ignore[no-any-return]

    def is_exempt(self) -> bool:
        """Whether the request's view or blueprint is marked @csrf.exempt (Flask-WTF 1.3.0: _is_exempt())."""
        return bool(self._is_exempt())

    def refuse(self, reason: str) -> NoReturn:
        """Refuse the request as Flask-WTF does, with its 400 and `reason` (Flask-WTF 1.3.0: _error_response()
        raises CSRFError)."""
        self._error_response(reason)
        raise CSRFError(reason)  # not reached while _error_response raises, as it does in 1.3.0


def same_origin(url: str, other: str) -> bool:
    """Whether two URLs share scheme, host and port, as Flask-WTF compares a referrer with the host. Checked
    against Flask-WTF 1.3.0 (flask_wtf.csrf.same_origin, outside its __all__)."""
    return bool(_same_origin(url, other))


def mark_csrf_valid() -> None:
    """Tell Flask-WTF's forms that this request's CSRF token was checked, so they do not check it again.
    Checked against Flask-WTF 1.3.0 (FlaskForm's CSRF field passes when g.csrf_valid is set)."""
    g.csrf_valid = True


def request_csrf_token(field: str) -> str | None:
    """The signed CSRF token this request already has (generate_csrf signs one per request), or None. Checked
    against Flask-WTF 1.3.0 (generate_csrf keeps it in g under WTF_CSRF_FIELD_NAME)."""
    token = g.get(field)
    return None if token is None else str(token)


def forget_request_csrf_token(field: str) -> str | None:
    """Take this request's signed CSRF token away (generate_csrf then makes a new one), returning it. Checked
    against Flask-WTF 1.3.0 (g under WTF_CSRF_FIELD_NAME)."""
    token = g.pop(field, None)
    return None if token is None else str(token)


def keep_request_csrf_token(field: str, token: str) -> None:
    """Make `token` this request's signed CSRF token, where generate_csrf and the forms find it. Checked against
    Flask-WTF 1.3.0 (g under WTF_CSRF_FIELD_NAME)."""
    setattr(g, field, token)
