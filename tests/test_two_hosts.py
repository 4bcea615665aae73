"""Two app hosts, one truth: two gunicorn masters (own instance folders, own loopback ports) on one PostgreSQL
schema, one Redis and one upload folder, driven over real HTTP. Whatever one host does, the other sees at its next
request, although each keeps caches of its own (CONTRIBUTING.md, "Per-process caches and many hosts").

The deployment the README describes, without the load balancer (bench/two_hosts.py adds HAProxy).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis

from lms import create_app
from lms.accounts import operations as accounts
from lms.accounts.models import Role
from lms.certificates import operations as certificates
from lms.clock import now_utc
from lms.content import sync_content
from lms.courses import operations as courses
from lms.database import dispose_engines
from lms.extensions import db
from lms.quizzes.models import AnswerSave, Attempt
from tests import hosts
from tests.conftest import (
    BASE_CONFIG,
    PASSWORD,
    PG_SKIP_REASON,
    PG_URL,
    create_schema,
    drop_schema,
    schema_url,
)
from tests.conftest import new_schema_name as schema_name

REDIS_URL = "redis://127.0.0.1:6379/0"
FIXTURES = Path(__file__).parent / "fixtures" / "courses" / "valid"
TRACK, MODULE, LESSON, QUIZ = "beta", "only", "solo", "two-hosts-quiz"
STUDY_HABITS = re.compile(r"(Good|Edition [0-9a-f]{6}) study habits")
VERIFY_LIMIT = 6  # per minute and address, on both hosts together
QUIZ_TOML = """\
title = "Two hosts quiz"
track = "beta"
module = "only"
kind = "module"
time_limit_minutes = 30
attempts_allowed = 1
pass_percent = 50
grading = "highest"
shuffle_questions = false
shuffle_choices = false
draw = 3
review = "score_only"
review_after = "submit"
on_expiry = "auto_submit"
grace_seconds = 0
"""
QUESTION = """
[[questions]]
id = "q{i}"
type = "single"
points = 1
prompt = "Question {i}?"

[[questions.choices]]
text = "Right"
correct = true

[[questions.choices]]
text = "Wrong"
correct = false
"""

pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)


def prepare_world(workdir: Path, url: str) -> SimpleNamespace:
    """The schema, the content (a copy of the fixtures' free track, with a quiz) and the staff, on `url`."""
    courses_dir, quizzes_dir = workdir / "courses", workdir / "quizzes"
    shutil.copytree(FIXTURES / TRACK, courses_dir / TRACK)
    quizzes_dir.mkdir()
    (quizzes_dir / f"{QUIZ}.toml").write_text(QUIZ_TOML + "".join(QUESTION.format(i=i) for i in (1, 2, 3)))
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(workdir / "uploads")})
    with app.app_context():
        db.create_all()
        sync_content(courses_dir, quizzes_dir)
        staff = SimpleNamespace(
            instructor=accounts.register_user("instructor@hosts.example", "Ida Instructor", PASSWORD,
                                              Role.INSTRUCTOR).email,
            admin=accounts.register_user("admin@hosts.example", "Ada Admin", PASSWORD, Role.ADMIN).email,
        )  # fmt: skip
        db.session.commit()
    return SimpleNamespace(app=app, staff=staff, courses_dir=courses_dir, quizzes_dir=quizzes_dir)


def host_settings(prefix: str, trusted_proxies: int = 1) -> dict[str, str]:
    """What both hosts are started with, beside hosts.host_env's: limits on, counted in Redis under `prefix`."""
    return {
        "LMS_RATELIMIT_ENABLED": "1",
        "LMS_RATELIMIT_STORAGE_URL": REDIS_URL,
        "LMS_RATELIMIT_KEY_PREFIX": prefix,
        # each visitor names its own address (X-Forwarded-For), so each is limited apart
        "LMS_TRUSTED_PROXIES": str(trusted_proxies),
        "LMS_VERIFY_LIMIT_PER_ADDRESS": f"{VERIFY_LIMIT} per minute",
        "LMS_LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
        "LMS_CERTIFICATE_COUNT_FLUSH_SECONDS": "0",
    }


def forget_counters(prefix: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"*{prefix}*"))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A PostgreSQL schema of its own with the content and staff, and two hosts on it; each check makes its own
    students and certificates."""
    schema = schema_name("hosts")
    create_schema(schema)
    url = schema_url(PG_URL, schema)
    prefix = f"lms-test-hosts-{secrets.token_hex(6)}"
    world = None
    try:
        world = prepare_world(tmp_path, url)
        envs = {name: hosts.host_env(url, tmp_path, name, **host_settings(prefix)) for name in ("a", "b")}
        with hosts.running_hosts(envs) as running:
            world.a, world.b, world.prefix = running["a"], running["b"], prefix
            yield world
    finally:
        if world is not None:
            with world.app.app_context():
                dispose_engines(db.engine)
        drop_schema(schema)
        forget_counters(prefix)


_ADDRESSES = itertools.count(1)


def visitor() -> hosts.Visitor:
    """A new browser from an address of its own (rate limits count per address)."""
    n = next(_ADDRESSES)
    return hosts.Visitor(address=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")


def new_student(world: SimpleNamespace, enrolled: bool = False) -> str:
    with world.app.app_context():
        user = accounts.register_user(
            f"s-{secrets.token_hex(4)}@hosts.example", "Sam Student", PASSWORD, Role.STUDENT
        )
        if enrolled:
            courses.enroll(user, courses.find_track(TRACK))
        db.session.commit()
        return user.email


def signed_in(world: SimpleNamespace, email: str, host: hosts.Host) -> hosts.Visitor:
    browser = visitor()
    browser.sign_in(host, email, PASSWORD)
    return browser


def check_a_session_signed_in_through_one_host_works_on_the_other(world):
    email = new_student(world)
    browser = signed_in(world, email, world.a)
    for host in (world.b, world.a, world.b):
        page = browser.get(host, "/account")
        assert page.status == 200, f"{host.name}: {page.status} {page.location}"
        assert email in page.text
    # a form served by B, posted to A: one CSRF token for the session, on every host
    response = browser.post_form(world.a, "/account/time-zone", {"time_zone": "Europe/Paris"},
                                 token_from="/account", token_host=world.b)  # fmt: skip
    assert response.status == 302, response.status


def check_rate_limits_are_counted_together_by_both_hosts(world):
    code = issue_certificate(world)
    stranger = visitor()
    statuses = [
        stranger.get(host, f"/verify/{code}").status for host in (world.a, world.b) * (VERIFY_LIMIT // 2)
    ]
    assert statuses == [200] * VERIFY_LIMIT
    assert stranger.get(world.a, f"/verify/{code}").status == 429, "host A did not count host B's lookups"
    assert stranger.get(world.b, f"/verify/{code}").status == 429
    assert visitor().get(world.b, f"/verify/{code}").status == 200, "another address is counted apart"

    # wrong passwords for one account: 5 a minute from one address, wherever they arrive
    email, guesser = new_student(world), visitor()
    wrong = [guesser.post_form(host, "/login", {"email": email, "password": "not-it-at-all"}).status
             for host in (world.a, world.b, world.a, world.b, world.a)]  # fmt: skip
    assert wrong == [422] * 5
    assert guesser.post_form(world.b, "/login", {"email": email, "password": "not-it-at-all"}).status == 429
    assert Redis.from_url(REDIS_URL).keys(f"*{world.prefix}*"), "the counters live in the shared Redis"


def issue_certificate(world: SimpleNamespace) -> str:
    email = new_student(world, enrolled=True)
    with world.app.app_context():
        holder = accounts.find_user_by_email(email)
        instructor = accounts.find_user_by_email(world.staff.instructor)
        certificate = certificates.issue_certificate(
            holder, courses.find_track(TRACK), instructor, "Two hosts"
        )
        db.session.commit()
        return certificate.display_code


def check_a_certificate_revoked_through_a_shows_revoked_on_b_at_the_next_request(world):
    code = issue_certificate(world)
    public = visitor()
    for host in (world.b, world.b, world.a):  # both hosts now keep the VALID page
        page = public.get(host, f"/verify/{code}")
        assert page.status == 200 and "VALID" in page.text
    admin = signed_in(world, world.staff.admin, world.a)
    for _ in range(2):  # host B now keeps its staff list too (lms.accounts.kept_pages)
        listed = admin.get(world.b, "/staff/certificates")
        assert listed.status == 200 and ">VALID<" in listed.text and ">REVOKED<" not in listed.text
    revoked = admin.post_form(
        world.a, f"/staff/certificates/{code}/revoke", {"reason": "Issued in error"},
        token_from=f"/staff/certificates/{code}",
    )  # fmt: skip
    assert revoked.status == 302, revoked.status
    page = public.get(world.b, f"/verify/{code}")
    assert page.status == 410 and "REVOKED" in page.text, "host B showed its kept VALID page"
    assert json.loads(public.get(world.b, f"/verify/{code}.json").body).get("revoked") is True
    assert ">REVOKED<" in admin.get(world.b, "/staff/certificates").text, "host B showed its kept staff list"


def start_attempt(world: SimpleNamespace, browser: hosts.Visitor, host: hosts.Host) -> SimpleNamespace:
    response = browser.post_form(host, f"/quizzes/{QUIZ}/start", {}, token_from=f"/quizzes/{QUIZ}")
    assert response.status == 302 and "/quizzes/attempts/" in response.location, response.status
    attempt_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    page = browser.get(host, f"/quizzes/attempts/{attempt_id}").text
    csrf = hosts.CSRF_META.search(page).group(1)  # type: ignore[union-attr]
    return SimpleNamespace(id=attempt_id, csrf=csrf)


def save(world: SimpleNamespace, browser: hosts.Visitor, host: hosts.Host, attempt: Any, question: str, seq: int
         ) -> hosts.Response:  # fmt: skip
    payload = {"question": question, "value": "c1", "seq": seq, "given_at_ms": int(time.time() * 1000)}
    return browser.post_json(host, f"/quizzes/attempts/{attempt.id}/answers", payload, attempt.csrf)


def check_extra_time_given_through_b_is_honoured_by_a_save_served_by_a(world):
    student = signed_in(world, new_student(world, enrolled=True), world.a)
    attempt = start_attempt(world, student, world.a)
    # The attempt is near its end: two seconds left.
    with world.app.app_context():
        db.session.execute(
            sa.update(Attempt)
            .where(Attempt.id == attempt.id)
            .values(deadline=now_utc() + timedelta(seconds=2))
        )
        db.session.commit()
    first = save(world, student, world.a, attempt, "q1", 1)
    assert first.status == 200 and first.json()["ok"], (
        first.text
    )  # host A now knows the attempt and its deadline
    instructor = signed_in(world, world.staff.instructor, world.b)
    given = instructor.post_form(
        world.b, f"/staff/quizzes/attempts/{attempt.id}/extra-time", {"minutes": "5"},
        token_from=f"/staff/quizzes/attempts/{attempt.id}",
    )  # fmt: skip
    assert given.status == 302, given.status
    time.sleep(2.5)  # past the deadline host A read
    late = save(world, student, world.a, attempt, "q2", 1)
    assert late.status == 200 and late.json()["ok"], (
        f"host A refused a save within the extra time: {late.text}"
    )
    with world.app.app_context():
        stored = db.session.scalars(
            sa.select(AnswerSave.question_id).where(AnswerSave.attempt_id == attempt.id)
        )
        assert set(stored) == {"q1", "q2"}


def check_a_content_sync_shows_on_both_hosts(world):
    admin = signed_in(world, world.staff.admin, world.a)
    path = f"/tracks/{TRACK}/lessons/{LESSON}"
    lesson = world.courses_dir / TRACK / MODULE / f"{LESSON}.md"
    text = lesson.read_text()
    shown = STUDY_HABITS.search(text).group(0)  # type: ignore[union-attr]
    for host in (world.a, world.b, world.a, world.b):  # kept by both
        page = admin.get(host, path)
        assert page.status == 200 and shown in page.text, f"host {host.name}: {page.status}"
    edition = f"Edition {secrets.token_hex(3)} study habits"
    lesson.write_text(STUDY_HABITS.sub(edition, text, count=1))
    with world.app.app_context():  # the deploy step, from a third process
        changes = sync_content(world.courses_dir, world.quizzes_dir)
        assert any(change.action == "updated" for change in changes), "the sync changed nothing"
    for host in (world.b, world.a):
        assert edition in admin.get(host, path).text, f"host {host.name} showed its kept page"


def check_a_password_change_through_a_signs_out_the_session_on_b(world):
    email = new_student(world)
    laptop, phone = signed_in(world, email, world.a), signed_in(world, email, world.b)
    assert phone.get(world.b, "/account").status == 200  # host B knows this session
    changed = laptop.post_form(
        world.a, "/account/password",
        {"current_password": PASSWORD, "new_password": "a-new-password-42", "confirm": "a-new-password-42"},
    )  # fmt: skip
    assert changed.status == 302, changed.status
    after = phone.get(world.b, "/account")
    assert after.status == 302 and "/login" in after.location, "the other device stayed signed in on host B"
    assert laptop.get(world.b, "/account").status == 200, "the device that changed it stays signed in"


def check_a_sign_out_through_a_ends_the_session_on_b(world):
    browser = signed_in(world, new_student(world), world.a)
    assert browser.get(world.b, "/account").status == 200
    copied = hosts.Visitor(
        cookies=dict(browser.cookies), address=browser.address
    )  # a stolen or replayed cookie
    signed_out = browser.post_form(world.a, "/logout", {}, token_from="/account")
    assert signed_out.status == 302
    replayed = copied.get(world.b, "/account")
    assert replayed.status == 302 and "/login" in replayed.location, "host B still honoured the ended session"


CHECKS = [
    check_a_session_signed_in_through_one_host_works_on_the_other,
    check_rate_limits_are_counted_together_by_both_hosts,
    check_a_certificate_revoked_through_a_shows_revoked_on_b_at_the_next_request,
    check_extra_time_given_through_b_is_honoured_by_a_save_served_by_a,
    check_a_content_sync_shows_on_both_hosts,
    check_a_password_change_through_a_signs_out_the_session_on_b,
    check_a_sign_out_through_a_ends_the_session_on_b,
]


def test_two_hosts_one_truth(world):
    """Every check runs (one pair of hosts for all: starting them is most of the time), then each failure is named.
    Under xdist a module's tests may go to different workers, each starting its own hosts: hence one test."""
    failures = []
    for check in CHECKS:
        try:
            check(world)
        except AssertionError as error:
            failures.append(f"{check.__name__}: {error}")
    assert not failures, "\n".join(failures)
