"""Fixtures: a fresh database per test on SQLite and, when LMS_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from lms import clock, create_app
from lms.accounts import operations
from lms.accounts.models import Role, User
from lms.courses.snapshot import content_cache_of
from lms.database import dispose_engines
from lms.extensions import db
from lms.page_cache import clear_page_caches
from tests.fixtures.courses.samples import copy_valid_tree
from tests.support import BrowserLikeClient

# Tests never write into the developer's instance folder (its SQLite file, its secret): one of their own.
os.environ.setdefault("LMS_INSTANCE_PATH", tempfile.mkdtemp(prefix="lms-test-instance-"))

PG_URL = os.environ.get("LMS_TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-battery"
PG_SKIP_REASON = "LMS_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite did NOT run"

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # the real default (scrypt) is slow on purpose
    "RATELIMIT_ENABLED": False,
    "CERTIFICATE_COUNT_FLUSH_SECONDS": 0,  # counted views written at once (tests of the delayed write set their own)
    "SERVER_NAME": None,
    # Sessions without idle or absolute timeouts, so tests that move the frozen clock by days stay signed in;
    # tests/test_sessions.py sets its own.
    "SESSION_IDLE_MINUTES": 0,
    "SESSION_ABSOLUTE_HOURS": 0,
    "REMEMBER_IDLE_DAYS": 0,
}


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return (
            f"databases: SQLite and PostgreSQL ({sa.make_url(PG_URL).render_as_string(hide_password=True)})"
        )
    return f"databases: SQLite only. !!! {PG_SKIP_REASON} !!!"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not PG_URL:
        terminalreporter.write_sep("!", PG_SKIP_REASON, red=True, bold=True)


def schema_url(base_url: str, schema: str) -> str:
    url = sa.make_url(base_url)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def create_schema(name: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()


def drop_schema(name: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


def new_schema_name(worker: str) -> str:
    return f"lms_test_{worker}_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database with the schema, copied for each test (faster than creating tables each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        dispose_engines(db.engine)
    return path


@pytest.fixture(scope="session")
def pg_schema(worker_id_safe: str) -> Iterator[str]:
    """A schema of this run's own on the PostgreSQL server, dropped at the end."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    name = new_schema_name(worker_id_safe)
    create_schema(name)
    url = schema_url(PG_URL, name)
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        dispose_engines(db.engine)
    try:
        yield url
    finally:
        drop_schema(name)


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for migrations and the first bootstrap)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    name = new_schema_name("empty")
    create_schema(name)
    try:
        yield schema_url(PG_URL, name)
    finally:
        drop_schema(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """This test's settings; tests change them with @pytest.mark.app_config(KEY=value) or by overriding this
    fixture. The database is chosen by the `app` fixture."""
    config = {**BASE_CONFIG, "UPLOAD_DIR": str(tmp_path / "uploads")}
    for marker in reversed(list(request.node.iter_markers("app_config"))):
        config.update(marker.kwargs)
    return config


def _reset_database(app: Flask, backend: str) -> None:
    """Empty every table, so the next test starts from a fresh database."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with app.app_context(), db.engine.begin() as conn:
        if backend == "postgresql":
            quoted = ", ".join(f'"{table}"' for table in tables)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')  # noqa: S608 (names from our own metadata)
    clear_page_caches(app)  # pages rendered from rows that are gone
    content_cache_of(app).clear()  # track content read from rows that are gone


# Building an app compiles every URL rule (a few ms each), so tests with the default settings share one app per
# backend and get an emptied database; tests with settings of their own get an app (and database) of their own.
_SHARED_APPS: dict[str, tuple[Flask, dict[str, Any]]] = {}


@pytest.fixture(scope="session", autouse=True)
def _close_shared_apps() -> Iterator[None]:
    yield
    for shared, _ in _SHARED_APPS.values():
        with shared.app_context():
            dispose_engines(db.engine)
    _SHARED_APPS.clear()


def _database_url_for(backend: str, request: pytest.FixtureRequest, path: Path) -> str:
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_schema")


def _shared_app(backend: str, request: pytest.FixtureRequest) -> Flask:
    if backend not in _SHARED_APPS:
        path = request.getfixturevalue("tmp_path_factory").mktemp(f"shared-{backend}") / "lms.sqlite3"
        app = create_app(
            {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": _database_url_for(backend, request, path)}
        )
        app.test_client_class = BrowserLikeClient
        _SHARED_APPS[backend] = (app, dict(app.config))
    app, settings = _SHARED_APPS[backend]
    app.config.clear()
    app.config.update(settings)
    return app


# The live server runs in a forked process: it must open its own database connections, never reuse (and so
# corrupt) the ones the test process holds. SQLAlchemy's advice: dispose the pool in the child without closing.
_ENGINES_TO_FORGET_IN_CHILD: list[sa.Engine] = []


def _forget_inherited_connections() -> None:
    for engine in _ENGINES_TO_FORGET_IN_CHILD:
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


@pytest.fixture
def app(
    app_config: dict[str, Any], backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Flask]:
    own_settings = (
        {k: v for k, v in app_config.items() if k != "UPLOAD_DIR"} != BASE_CONFIG
        or os.environ.get("LMS_TEST_SHARED_APP") == "0"  # for chasing a leak between tests
    )
    if own_settings:
        url = _database_url_for(backend, request, tmp_path / "lms.sqlite3")
        app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
        app.test_client_class = BrowserLikeClient
    else:
        app = _shared_app(backend, request)
        app.config["UPLOAD_DIR"] = app_config["UPLOAD_DIR"]
    if backend == "postgresql" or not own_settings:
        _reset_database(app, backend)
    with app.app_context():
        _ENGINES_TO_FORGET_IN_CHILD[:] = [db.engine]
        yield app
        db.session.remove()
        if own_settings:
            dispose_engines(db.engine)
    clock.freeze(None)


@pytest.fixture
def client(app: Flask) -> BrowserLikeClient:
    """A client that does not keep request contexts around (pytest-flask's does), so each request stands alone."""
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user; every argument optional, emails unique per call."""
    counter = iter(range(1, 1_000_000))

    def make(
        role: Role | str = Role.STUDENT,
        email: str | None = None,
        full_name: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        role = Role(role)
        n = next(counter)
        email = email or f"{role.value}{n}@example.org"
        full_name = full_name or f"Test {role.label} {n}"
        return operations.register_user(email, full_name, password, role)

    return make


@pytest.fixture
def student(make_user: Callable[..., User]) -> User:
    return make_user(Role.STUDENT, full_name="Stella Student")


@pytest.fixture
def instructor(make_user: Callable[..., User]) -> User:
    return make_user(Role.INSTRUCTOR, full_name="Ingrid Instructor")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, full_name="Adam Admin")


@pytest.fixture
def samples(make_user: Callable[..., User], request: pytest.FixtureRequest) -> SimpleNamespace:
    """One user per role plus the rows the access rules need (tests/access_rules/): only those of the rule's own
    feature when the test is parametrized with a `rule`, else every feature's."""
    from tests.access_rules import prepare_samples

    callspec = getattr(request.node, "callspec", None)
    rule = callspec.params.get("rule") if callspec is not None else None
    users = SimpleNamespace(
        student=make_user(Role.STUDENT, full_name="Sample Student"),
        other_student=make_user(Role.STUDENT, full_name="Other Student"),
        instructor=make_user(Role.INSTRUCTOR, full_name="Sample Instructor"),
        admin=make_user(Role.ADMIN, full_name="Sample Admin"),
    )
    return prepare_samples(users, owner=getattr(rule, "owner", None))


class SentMail(Sequence[SimpleNamespace]):
    """The emails that really left, as the SMTP server of tests/smtp.py received them, in order: each read runs the
    job queue first (`jobs.run_pending()`, as a worker would), then gives each message's envelope recipient
    (`to`), `subject`, plain-text `body`, `html` part and the parsed `message`."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def _sent(self) -> list[SimpleNamespace]:
        from lms import jobs
        from tests.smtp import html_part, text_part

        jobs.run_pending()
        inbox = self.server.inbox
        return [
            SimpleNamespace(
                to=rcpts[0], subject=m["Subject"], body=text_part(m), html=html_part(m), message=m
            )
            for m, rcpts in zip(list(inbox.messages), list(inbox.recipients), strict=True)
        ]

    def __getitem__(self, index: Any) -> Any:
        return self._sent()[index]

    def __len__(self) -> int:
        return len(self._sent())

    def __iter__(self) -> Iterator[SimpleNamespace]:
        return iter(self._sent())

    def __eq__(self, other: object) -> bool:
        return self._sent() == other

    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def account_mail(app: Flask, smtp_server: Any, monkeypatch: pytest.MonkeyPatch) -> SentMail:
    """The emails sent during the test (account emails and notices), read from a real SMTP server after the job
    queue ran: what really leaves, not what the code meant to send."""
    for key, value in smtp_server.settings().items():
        monkeypatch.setitem(app.config, key, value)
    return SentMail(smtp_server)


def sign_in(client: BrowserLikeClient, user: User) -> BrowserLikeClient:
    """Put the user in the client's session, with a server-side session of its own (the sign-in form itself is
    tested in test_accounts)."""
    from lms.accounts.operations import start_session

    user.session_token = start_session(user, remember=False, address="127.0.0.1", user_agent="pytest")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def login() -> Callable[[BrowserLikeClient, User], BrowserLikeClient]:
    return sign_in


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**settings): extra app settings for this test")


pytest_plugins = ["tests.browser", "tests.smtp", "tests.oidc"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the valid course tree (tests/fixtures/courses/valid), for tests that change it."""
    return copy_valid_tree(tmp_path)
