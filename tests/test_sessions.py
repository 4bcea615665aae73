"""Sessions end when they should (issue 16, OWASP ASVS 5.0 level 2): a sign-out ends the session on the server
(its copied cookie, its copied remember-me cookie, and the one-statement autosave all refuse it), other devices
stay signed in, "sign out everywhere else", idle and absolute timeouts, a new CSRF token at sign-in and sign-out,
and __Host- cookies in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts import operations
from lms.accounts.models import User, UserSession
from lms.config import load_config
from lms.extensions import db
from lms.page_cache import clear_page_caches
from tests import test_courses_views, test_quiz_attempts
from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import enrol_directly
from tests.support import find_csrf_token, recorded_statements
from tests.test_quiz_attempts import at, save
from tests.test_quiz_concurrency import stored_saves as stored

quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking
track = test_courses_views.track

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


def sign_in_form(client, user: User, remember: bool = False, agent: str = FIREFOX):
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, headers={"User-Agent": agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def copy_of(app, client, *names: str):
    """Another client holding copies of `client`'s cookies named `names` (what a thief would replay)."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie to copy"
        other.set_cookie(name, cookie.value)
    return other


def signed_in(client) -> bool:
    response = client.get("/dashboard")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def sign_out(client) -> None:
    assert client.post("/logout").status_code == 302


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(app, client, student):
    sign_in_form(client, student)
    copied = copy_of(app, client, "session")
    assert signed_in(copied)  # the copy works while the session lasts
    sign_out(client)
    assert not signed_in(client)
    response = copied.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(sa.select(UserSession.revoked_at)) is not None


def test_a_lesson_page_read_in_one_statement_refuses_a_copied_cookie_after_sign_out(
    app, client, student, track
):
    enrol_directly(student.id, track)
    sign_in_form(client, student)
    url = "/tracks/sample/lessons/m1-l1"
    assert client.get(url).status_code == 200
    copied = copy_of(app, client, "session")
    with recorded_statements() as statements:
        assert copied.get(url).status_code == 200  # the copy reads the page in one statement while it lasts
    assert len(statements) == 1, statements
    sign_out(client)
    with recorded_statements() as statements:
        response = copied.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "user_sessions" in statements[0]  # the page's one statement saw the session was over


def test_a_remember_me_cookie_copied_before_sign_out_is_refused_after_it(app, client, student):
    sign_in_form(client, student, remember=True)
    copied = copy_of(
        app, client, "remember_token"
    )  # the remember-me cookie alone, as after a browser restart
    assert signed_in(copied)
    sign_out(client)
    thief = app.test_client()
    thief.set_cookie("remember_token", copied.get_cookie("remember_token").value)
    assert not signed_in(thief)


def test_a_session_from_before_server_side_sessions_is_refused(client, student):
    with client.session_transaction() as session:
        session["_user_id"] = f"{student.id}:{student.session_version}"  # what a cookie signed before held
    assert not signed_in(client)


def test_signing_out_one_device_leaves_the_others_signed_in(app, student):
    laptop, phone = (
        sign_in_form(app.test_client(), student),
        sign_in_form(app.test_client(), student, agent=PHONE),
    )
    sign_out(laptop)
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_the_devices_page_lists_active_sessions_and_signs_out_everywhere_else(
    app, client, student, make_user
):
    sign_in_form(client, student)
    phone = sign_in_form(app.test_client(), student, agent=PHONE)
    tablet = sign_in_form(app.test_client(), student, agent="curl/8.5")
    gone = sign_in_form(app.test_client(), student)
    sign_out(gone)
    someone_else = sign_in_form(app.test_client(), make_user())
    assert "Signed-in devices" in client.get("/account").get_data(as_text=True)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert page.count("Firefox on Linux") == 1  # the signed-out one is not listed
    assert "Safari on iOS" in page and "Unknown device" in page
    assert "(this device)" in page and "127.0.0.1" in page
    response = client.post("/account/sessions/others/end", follow_redirects=True)
    assert "Signed out on 2 other devices." in response.get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(phone) and not signed_in(tablet)
    assert signed_in(someone_else)
    assert "Sign out everywhere else" not in client.get("/account/sessions").get_data(as_text=True)


def test_one_other_device_can_be_signed_out_and_no_one_elses(app, client, student, make_user):
    sign_in_form(client, student)
    phone = sign_in_form(app.test_client(), student, agent=PHONE)
    stranger = make_user()
    sign_in_form(app.test_client(), stranger)
    mine = db.session.scalars(sa.select(UserSession.id).where(UserSession.user_id == student.id)).all()
    theirs = db.session.scalar(sa.select(UserSession.id).where(UserSession.user_id == stranger.id))
    assert client.post(f"/account/sessions/{theirs}/end").status_code == 404
    assert client.post(f"/account/sessions/{max(mine)}/end").status_code == 302
    assert not signed_in(phone) and signed_in(client)
    assert (
        client.post(f"/account/sessions/{min(mine)}/end").status_code == 404
    )  # this device: sign out instead


def test_ending_other_sessions_needs_the_csrf_token(app, client, student):
    sign_in_form(client, student)
    phone = sign_in_form(app.test_client(), student, agent=PHONE)
    assert client.post("/account/sessions/others/end", csrf=False).status_code == 400
    assert signed_in(phone)


def test_a_password_change_signs_out_the_other_devices_and_keeps_this_one(app, client, student):
    sign_in_form(client, student, remember=True)
    phone = sign_in_form(app.test_client(), student, agent=PHONE)
    new = "a-brand-new-passphrase"
    data = {"current_password": PASSWORD, "new_password": new, "confirm": new}
    assert client.post("/account/password", data=data).status_code == 302
    assert signed_in(client) and not signed_in(phone)
    remembered = app.test_client()  # this device's remember-me cookie, re-issued with the new password
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert signed_in(remembered)
    live = db.session.scalar(
        sa.select(sa.func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))
    )
    assert live == 1


# --- the autosave refuses a signed-out session, on both of its paths ---------------------------------------------


@pytest.fixture
def saved_once(client, taking):
    """The attempt's first save is served (so this process knows the attempt: the next goes the one-statement way)."""
    at(5)
    assert save(client, taking, "goal", "c1", 1).status_code == 200
    assert operations_known(taking)
    return taking


def operations_known(attempt_id: int) -> bool:
    from lms.quizzes import operations as quizzes

    return quizzes.known_attempt(attempt_id) is not None


def test_the_one_statement_autosave_refuses_a_copied_cookie_after_sign_out(app, client, saved_once):
    at(10)
    token = client.csrf_token()
    copied = copy_of(app, client, "session")
    payload = {"question": "pilot", "value": True, "seq": 2}
    sign_out(client)
    with recorded_statements() as statements:
        response = copied.post(
            f"/quizzes/attempts/{saved_once}/answers", json=payload, headers={"X-CSRFToken": token}
        )
    assert response.status_code in (302, 401), response.status_code
    tried = [sql for sql in statements if sql.startswith("INSERT INTO quiz_answer_saves")]
    assert len(tried) == 1 and "user_sessions" in tried[0], statements  # the one statement tried, and refused
    assert stored(saved_once) == [("goal", 1)]


def test_the_usual_autosave_refuses_a_copied_cookie_after_sign_out(app, client, saved_once):
    at(10)
    token = client.csrf_token()
    copied = copy_of(app, client, "session")
    sign_out(client)
    clear_page_caches(app)  # a process that has not seen the attempt: the save goes the usual way
    payload = {"question": "pilot", "value": True, "seq": 2}
    response = copied.post(
        f"/quizzes/attempts/{saved_once}/answers", json=payload, headers={"X-CSRFToken": token}
    )
    assert response.status_code in (302, 401), response.status_code
    assert stored(saved_once) == [("goal", 1)]


def test_a_live_session_still_saves_in_one_statement_and_is_seen_again_once_a_minute(client, saved_once):
    at(10)
    token = client.csrf_token()

    def statements_of_a_save(seq: int) -> list[str]:
        payload = {"question": "pilot", "value": True, "seq": seq}
        with recorded_statements() as statements:
            response = client.post(
                f"/quizzes/attempts/{saved_once}/answers", json=payload, headers={"X-CSRFToken": token}
            )
        assert response.status_code == 200, response.get_json()
        return [sql for sql in statements if sql != "BEGIN IMMEDIATE"]

    assert len(statements_of_a_save(2)) == 1
    at(100)  # more than a minute since the session was last seen: the usual way, which notes the visit
    assert any(sql.startswith("UPDATE user_sessions SET last_seen_at") for sql in statements_of_a_save(3))
    at(105)
    assert len(statements_of_a_save(4)) == 1


# --- idle and absolute timeouts ----------------------------------------------------------------------------------


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=12)
def test_a_session_ends_after_its_idle_timeout(client, student):
    clock.freeze(T0)
    sign_in_form(client, student)
    clock.freeze(T0 + timedelta(minutes=29))
    assert signed_in(client)  # used: the idle timeout starts again
    clock.freeze(T0 + timedelta(minutes=58))
    assert signed_in(client)
    clock.freeze(T0 + timedelta(minutes=58 + 31))
    assert not signed_in(client)


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=1)
def test_a_session_ends_after_its_absolute_timeout_however_busy(client, student):
    clock.freeze(T0)
    sign_in_form(client, student)
    for minutes in (20, 40, 59):
        clock.freeze(T0 + timedelta(minutes=minutes))
        assert signed_in(client), minutes
    clock.freeze(T0 + timedelta(minutes=61))
    assert not signed_in(client)


@pytest.mark.app_config(SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=1, REMEMBER_IDLE_DAYS=14)
def test_a_remembered_session_has_its_own_timeouts(app, client, student):
    clock.freeze(T0)
    sign_in_form(client, student, remember=True)
    cookie = client.get_cookie("remember_token").value
    browser = app.test_client()
    browser.set_cookie("remember_token", cookie)
    clock.freeze(T0 + timedelta(days=13))
    assert signed_in(browser)  # long past the plain session's hour, within two weeks of use
    clock.freeze(T0 + timedelta(days=26))
    assert signed_in(browser)
    clock.freeze(T0 + timedelta(days=30, minutes=1))  # LMS_REMEMBER_DAYS (30): however busy
    assert not signed_in(browser)
    idle = app.test_client()
    clock.freeze(T0)
    sign_in_form(idle, student, remember=True)
    cookie = idle.get_cookie("remember_token").value
    later = app.test_client()
    later.set_cookie("remember_token", cookie)
    clock.freeze(T0 + timedelta(days=14, minutes=1))
    assert not signed_in(later)


def test_the_timeouts_default_to_two_hours_idle_and_twelve_hours_in_all(monkeypatch, tmp_path):
    for name in ("LMS_SESSION_IDLE_MINUTES", "LMS_SESSION_ABSOLUTE_HOURS", "LMS_REMEMBER_IDLE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["SESSION_IDLE_MINUTES"] == 120
    assert config["SESSION_ABSOLUTE_HOURS"] == 12
    assert config["REMEMBER_IDLE_DAYS"] == 14
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)


# --- CSRF token renewed at sign-in and sign-out ------------------------------------------------------------------


def raw_csrf(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("csrf_token")


def test_the_csrf_token_is_new_after_sign_in_and_after_sign_out(client, student):
    before = client.csrf_token()
    raw_before = raw_csrf(client)
    sign_in_form(client, student)
    assert raw_csrf(client) != raw_before
    data = {"full_name": "Someone Else", "email": student.email, "csrf_token": before}
    assert client.post("/account", data=data).status_code == 400  # the token from before sign-in is refused
    during = client.csrf_token()
    raw_during = raw_csrf(client)
    assert during != before
    sign_out(client)
    assert raw_csrf(client) not in (raw_before, raw_during)
    refused = client.post("/login", data={"email": student.email, "password": PASSWORD, "csrf_token": during})
    assert refused.status_code == 400


# --- __Host- cookies in production --------------------------------------------------------------------------------


def test_production_names_its_cookies_with_the_host_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "a-production-secret")
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379")  # production refuses memory://
    monkeypatch.delenv("LMS_COOKIE_SECURE", raising=False)
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert config["KNOWN_DEVICE_COOKIE_NAME"] == "__Host-lms_known_device"
    for kind in ("SESSION", "REMEMBER"):
        assert config[f"{kind}_COOKIE_SECURE"] is True
        assert config[f"{kind}_COOKIE_PATH"] == "/"
        assert config[f"{kind}_COOKIE_DOMAIN"] is None
    monkeypatch.setenv("LMS_COOKIE_SECURE", "0")  # a browser would drop a __Host- cookie that is not Secure
    assert load_config(tmp_path)["SESSION_COOKIE_NAME"] == "session"
    monkeypatch.setenv("LMS_ENV", "development")
    monkeypatch.delenv("LMS_COOKIE_SECURE")
    assert load_config(tmp_path)["SESSION_COOKIE_NAME"] == "session"


def test_a_production_app_signs_in_with_host_prefixed_cookies(monkeypatch, tmp_path):
    from lms import create_app
    from lms.certificates.keys import new_secret_key_text
    from lms.database import dispose_engines

    for name, value in {
        "LMS_ENV": "production",
        "LMS_SECRET_KEY": "a-production-secret-for-this-test",
        "LMS_SIGNING_KEY": new_secret_key_text(),
        "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "LMS_RATELIMIT_ENABLED": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LMS_COOKIE_SECURE", raising=False)
    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        operations.register_user("prod@example.org", "Prod User", PASSWORD)
        https = {"base_url": "https://lms.example.org"}
        client = app.test_client()
        page = client.get("/login", **https).get_data(as_text=True)
        data = {"email": "prod@example.org", "password": PASSWORD, "remember": "y"}
        data["csrf_token"] = find_csrf_token(page)
        response = client.post(
            "/login", data=data, headers={"Referer": "https://lms.example.org/login"}, **https
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        cookies = {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}
        # The sign-in throttle's known-device cookie is set at sign-in too, and prefixed like the others.
        assert set(cookies) == {"__Host-session", "__Host-remember_token", "__Host-lms_known_device"}
        for line in cookies.values():
            assert "Secure" in line and "Path=/" in line and "Domain=" not in line and "HttpOnly" in line
        assert client.get("/dashboard", **https).status_code == 200
        dispose_engines(db.engine)


@pytest.mark.app_config(
    SESSION_COOKIE_NAME="__Host-session",
    REMEMBER_COOKIE_NAME="__Host-remember_token",
    KNOWN_DEVICE_COOKIE_NAME="__Host-lms_known_device",
    SESSION_COOKIE_SECURE=True,
    REMEMBER_COOKIE_SECURE=True,
)
def test_host_prefixed_cookies_are_secure_with_path_root_and_no_domain(client, student):
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    data = {
        "email": student.email,
        "password": PASSWORD,
        "remember": "y",
        "csrf_token": find_csrf_token(page),
    }
    response = client.post(
        "/login", data=data, base_url="https://localhost", headers={"Referer": "https://localhost/login"}
    )
    assert response.status_code == 302
    cookies = {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}
    # The sign-in throttle's known-device cookie is set at sign-in too, and prefixed like the others.
    assert set(cookies) == {"__Host-session", "__Host-remember_token", "__Host-lms_known_device"}
    for line in cookies.values():
        assert "Secure" in line and "Path=/" in line and "Domain=" not in line and "HttpOnly" in line


def test_ended_sessions_are_forgotten_at_the_next_sign_in(app, client, student):
    for _ in range(3):
        sign_out(sign_in_form(app.test_client(), student))
    phone = sign_in_form(app.test_client(), student, agent=PHONE)
    sign_in_form(client, student)
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == student.id)).all()
    assert len(rows) == 2 and all(row.revoked_at is None for row in rows)
    assert signed_in(phone)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        7,
        "7:1",
        "7:1:short",
        "x:1:" + "t" * 43,
        "7:-1:" + "t" * 43,
        f"{2**40}:1:" + "t" * 43,
        "7:1:2:" + "t" * 43,
    ],
)
def test_a_malformed_session_id_names_no_session(raw):
    assert operations.parse_session_id(raw) is None
    assert operations.parse_session_id("7:1:" + "t" * 43) == (7, 1, "t" * 43)
