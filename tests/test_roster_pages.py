"""The admin's bulk enrolment pages: upload, preview, apply (the previewed file only), result."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts import operations as accounts
from lms.audit import AuditEvent
from lms.courses.models import Enrollment
from lms.extensions import db
from lms.roster.models import StagedRoster
from tests.fixtures.files import rows

URL = "/admin/enrolments/import"
GOOD = b"email,name,track,cohort\nada@example.org,Ada Lovelace,strategist,Spring\n"


@pytest.fixture
def track(app):
    return rows.make_track("strategist", "Social Media Strategist")


def upload(client, data: bytes, name: str = "people.csv"):
    return client.post(URL, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    assert found, f"no hidden {name}"
    return found.group(1)


def enrolments() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment))


def test_upload_preview_apply_result(client, login, admin, track, account_mail):
    login(client, admin)
    assert "Import enrolments" in client.get(URL).get_data(as_text=True)
    preview = upload(client, GOOD)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'data-kind="create"' in page and "ada@example.org" in page and "new cohort" in page
    assert enrolments() == 0 and accounts.find_user_by_email("ada@example.org") is None
    key, digest = hidden(page, "key"), hidden(page, "sha256")
    assert digest in page  # the hash is shown to the admin
    done = client.post(f"{URL}/apply", data={"key": key, "sha256": digest})
    assert done.status_code == 200, done.get_data(as_text=True)
    result = done.get_data(as_text=True)
    assert "The file is applied" in result and 'data-count="created">1<' in result
    assert enrolments() == 1 and len(account_mail) == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.applied"))
    assert event.actor_id == admin.id and event.subject_id == digest
    again = client.post(f"{URL}/apply", data={"key": key, "sha256": digest})
    assert again.status_code == 409 and "no longer available" in again.get_data(as_text=True)


def test_a_tampered_apply_is_refused(client, login, admin, track):
    login(client, admin)
    page = upload(client, GOOD).get_data(as_text=True)
    key = hidden(page, "key")
    other = upload(client, GOOD.replace(b"Ada Lovelace", b"Eve Intruder")).get_data(as_text=True)
    refused = client.post(f"{URL}/apply", data={"key": key, "sha256": hidden(other, "sha256")})
    assert refused.status_code == 409 and "not the one previewed" in refused.get_data(as_text=True)
    staged = db.session.scalar(sa.select(StagedRoster).where(StagedRoster.key == key))
    staged.content = GOOD.replace(b"Ada Lovelace", b"Eve Intruder")  # changed behind the preview's back
    db.session.commit()
    refused = client.post(f"{URL}/apply", data={"key": key, "sha256": hidden(page, "sha256")})
    assert refused.status_code == 409 and "not the one previewed" in refused.get_data(as_text=True)
    no_csrf = client.post(f"{URL}/apply", data={"key": key, "sha256": hidden(page, "sha256")}, csrf=False)
    assert no_csrf.status_code == 400
    assert enrolments() == 0 and accounts.find_user_by_email("ada@example.org") is None


def test_a_file_with_an_error_row_shows_every_row_and_no_apply_button(client, login, admin, track):
    login(client, admin)
    response = upload(client, GOOD + b"grace@example.org,Grace Hopper,nowhere,\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ada@example.org" in page and "there is no track" in page and "refused as a whole" in page
    assert 'name="key"' not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedRoster)) == 0


def test_rows_that_turned_bad_after_the_preview_refuse_the_apply(client, login, admin, track):
    login(client, admin)
    page = upload(client, GOOD).get_data(as_text=True)
    track.retired_at = clock.now_utc()
    db.session.commit()
    response = client.post(
        f"{URL}/apply", data={"key": hidden(page, "key"), "sha256": hidden(page, "sha256")}
    )
    assert response.status_code == 422 and "no longer offered" in response.get_data(as_text=True)
    assert enrolments() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose the CSV file"),
        (b"name,track\nAda,strategist\n", "lacks email"),
        (b"\xff\xfeemail", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_clear_422(client, login, admin, track, data, message):
    login(client, admin)
    response = upload(client, data) if data else client.post(URL, data={})
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_formula_like_names_are_shown_as_text(client, login, admin, track):
    login(client, admin)
    page = upload(client, b'email,name,track\nada@example.org,"=HYPERLINK(""http://x"")<b>",strategist\n')
    text = page.get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;)&lt;b&gt;" in text
