"""The admins' webhook pages: registering an endpoint (the secret shown once, then only its end), bad input answered
beside the field, enabling, disabling, rotating and deleting (softly), each audited without the secret; and the
guard against sending webhooks into this server's own network (SSRF), at registration and at delivery."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms import jobs
from lms.audit import AuditEvent
from lms.config import load_config
from lms.courses import operations as courses
from lms.errors import DomainError
from lms.extensions import db
from lms.webhooks import operations
from lms.webhooks.models import FAILED, WebhookDelivery, WebhookEndpoint
from tests.fixtures.files import rows
from tests.support import field_error
from tests.webhook_receiver import Receiver, self_signed

SECRET = re.compile(r"<code data-secret>(whsec_[A-Za-z0-9+/=]+)</code>")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def audit_trail() -> list[tuple[str, dict]]:
    db.session.expire_all()
    found = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.subject_type == "webhook_endpoint").order_by(AuditEvent.id)
    ).scalars()
    return [(event.action, event.data) for event in found]


def register(client, url="http://127.0.0.1:9/hooks", events=("enrolment.created", "certificate.issued")):
    return client.post(
        "/admin/webhooks", data={"url": url, "description": "HR  system", "events": list(events)}
    )


def test_registering_shows_the_secret_once_then_only_its_end(client, login, admin):
    login(client, admin)
    assert 'name="events"' in text_of(client.get("/admin/webhooks"))
    created = register(client)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    [secret] = SECRET.findall(text_of(created))
    [endpoint] = db.session.execute(sa.select(WebhookEndpoint)).scalars()
    assert endpoint.secret == secret and len(secret) == len("whsec_") + 44  # 32 random bytes, base64
    assert endpoint.events == ["certificate.issued", "enrolment.created"]  # in the list's order
    assert endpoint.description == "HR system" and endpoint.created_by_id == admin.id
    for page in (client.get("/admin/webhooks"), client.get(f"/admin/webhooks/{endpoint.id}")):
        assert secret not in text_of(page) and secret[-4:] in text_of(page)
    [(action, data)] = audit_trail()
    assert action == "webhook.created" and data["url"] == endpoint.url and secret not in str(data)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "", "events": ["enrolment.created"]}, "url", "Enter the endpoint"),
        ({"url": "ftp://example.org/x", "events": ["enrolment.created"]}, "url", "must start with https://"),
        ({"url": "https://user:pw@example.org/", "events": ["grade.released"]}, "url", "no user name"),
        ({"url": "https://exa mple.org/", "events": ["grade.released"]}, "url", "no spaces"),
        ({"url": "https://127.0.0.1:99999/", "events": ["grade.released"]}, "url", "not a valid URL"),
        ({"url": "http://127.0.0.1:9/hooks"}, "events", "Choose at least one event"),
        ({"url": "http://127.0.0.1:9/hooks", "events": ["user.deleted"]}, "events", "is not a valid choice"),
    ],
)
def test_bad_input_is_refused_beside_its_field(client, login, admin, data, field, message):
    login(client, admin)
    response = client.post("/admin/webhooks", data=data)
    assert response.status_code == 422
    assert message in (field_error(text_of(response), field) or "")
    assert db.session.execute(sa.select(WebhookEndpoint)).first() is None


def test_registering_needs_the_csrf_token(client, login, admin):
    login(client, admin)
    response = client.post("/admin/webhooks", data={"url": "http://127.0.0.1:9/", "events": ["grade.released"]},
                           csrf=False)  # fmt: skip
    assert response.status_code == 400
    assert db.session.execute(sa.select(WebhookEndpoint)).first() is None


def test_disable_enable_rotate_and_delete_are_audited_and_deleting_keeps_the_log(client, login, admin):
    login(client, admin)
    [first_secret] = SECRET.findall(text_of(register(client)))
    [endpoint] = db.session.execute(sa.select(WebhookEndpoint)).scalars()
    base = f"/admin/webhooks/{endpoint.id}"

    disabled = client.post(f"{base}/disable", follow_redirects=True)
    assert "gets no new deliveries" in text_of(disabled) and "Disabled" in text_of(disabled)
    assert client.post(f"{base}/enable").status_code == 302
    rotated = client.post(f"{base}/rotate")
    [second_secret] = SECRET.findall(text_of(rotated))
    assert second_secret != first_secret and "two signatures" in text_of(rotated)
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.secret == second_secret and endpoint.previous_secret == first_secret

    delivery = WebhookDelivery(endpoint_id=endpoint.id, message_id="msg_kept", event_type="grade.released",
                               payload='{"type":"grade.released"}')  # fmt: skip
    db.session.add(delivery)
    db.session.commit()
    deleted = client.post(f"{base}/delete", follow_redirects=True)
    assert "is deleted" in text_of(deleted) and endpoint.url not in text_of(client.get("/admin/webhooks"))
    kept = text_of(client.get(base))
    assert "Deleted" in kept and f'data-delivery="{delivery.id}"' in kept and "Rotate secret" not in kept
    refused = client.post(f"{base}/rotate", follow_redirects=True)
    assert "was deleted" in text_of(refused)
    assert [action for action, _ in audit_trail()] == [
        "webhook.created",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert all(first_secret not in str(data) and second_secret not in str(data) for _, data in audit_trail())


def test_an_unknown_endpoint_or_delivery_is_a_404(client, login, admin):
    login(client, admin)
    assert client.get("/admin/webhooks/12345").status_code == 404
    assert client.post("/admin/webhooks/12345/rotate").status_code == 404
    assert client.get("/admin/webhooks/deliveries/12345").status_code == 404
    assert client.post("/admin/webhooks/deliveries/12345/redeliver").status_code == 404


def test_the_delivery_page_shows_status_attempts_code_and_payload(client, login, admin, student):
    receiver = Receiver().start()
    try:
        endpoint = operations.create_endpoint(admin.id, receiver.url, "", ["enrolment.created"])
        receiver.secret = endpoint.secret
        courses.enroll(student, rows.make_track())
        jobs.run_pending()
    finally:
        receiver.stop()
    [delivery] = db.session.execute(sa.select(WebhookDelivery)).scalars()
    page = text_of(login(client, admin).get(f"/admin/webhooks/deliveries/{delivery.id}"))
    assert delivery.message_id in page and "data-status>delivered<" in page and "data-attempts>1<" in page
    assert student.email in page and "Redeliver" in page and "204" in page


# --- SSRF ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/hooks", "must use https:// in production"),
        ("https://127.0.0.1/hooks", "loopback address"),
        ("https://localhost:8443/hooks", "loopback address"),
        ("https://[::1]/hooks", "loopback address"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback address"),
        ("https://10.1.2.3/hooks", "private network address"),
        ("https://192.168.0.10/hooks", "private network address"),
        ("https://169.254.169.254/latest/meta-data", "link-local address"),
        ("https://100.64.0.1/hooks", "not a public internet address"),
        ("https://0.0.0.0/hooks", "not a host address"),
        ("https://224.0.0.1/hooks", "not a host address"),
    ],
)
def test_production_refuses_endpoints_inside_the_network(production, admin, url, message):
    with pytest.raises(DomainError, match=message) as refused:
        operations.create_endpoint(admin.id, url, "", ["grade.released"])
    assert refused.value.field == "url"


def test_production_accepts_a_public_https_address(production, admin):
    endpoint = operations.create_endpoint(admin.id, "https://93.184.216.34/hooks", "", ["grade.released"])
    assert endpoint.url == "https://93.184.216.34/hooks"


def test_the_page_says_why_an_address_is_refused(production, client, login, admin):
    login(client, admin)
    response = register(client, url="https://169.254.169.254/latest/meta-data")
    assert response.status_code == 422
    assert "cloud metadata" in field_error(text_of(response), "url")


def test_an_address_allowed_at_registration_is_checked_again_at_delivery(app, admin, student, monkeypatch):
    receiver = Receiver().start()
    try:
        endpoint = operations.create_endpoint(admin.id, receiver.url, "", ["enrolment.created"])
        receiver.secret = endpoint.secret
        monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE", False)  # the setting changed since
        courses.enroll(student, rows.make_track())
        jobs.run_pending()
    finally:
        receiver.stop()
    assert receiver.requests == []
    db.session.expire_all()
    [delivery] = db.session.execute(sa.select(WebhookDelivery)).scalars()
    assert delivery.state == FAILED and delivery.attempts == 1  # no retry can change it
    assert "127.0.0.1 is a loopback address" in delivery.attempt_log[0].error


def test_private_addresses_are_allowed_by_default_only_outside_production(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("LMS_ENV", raising=False)
    assert load_config(tmp_path)["WEBHOOKS_ALLOW_PRIVATE"] is True
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "a-long-random-secret")
    monkeypatch.setenv("LMS_RATELIMIT_ENABLED", "0")
    assert load_config(tmp_path)["WEBHOOKS_ALLOW_PRIVATE"] is False
    monkeypatch.setenv("LMS_WEBHOOKS_ALLOW_PRIVATE", "1")
    assert load_config(tmp_path)["WEBHOOKS_ALLOW_PRIVATE"] is True


@pytest.mark.parametrize("served_name", ["localhost", "other.test"], ids=["its own name", "another name"])
def test_https_connects_to_the_checked_address_and_still_checks_the_endpoints_certificate(
    app, admin, student, tmp_path, monkeypatch, served_name
):
    """The delivery connects to the address it checked, yet TLS verifies the certificate against the URL's name:
    a certificate for another name is refused."""
    context, ca_file = self_signed(tmp_path, served_name)
    monkeypatch.setitem(app.config, "WEBHOOKS_CA_FILE", ca_file)
    receiver = Receiver(tls=context).start()
    try:
        endpoint = operations.create_endpoint(admin.id, receiver.url, "", ["enrolment.created"])
        receiver.secret = endpoint.secret
        courses.enroll(student, rows.make_track())
        jobs.run_pending()
    finally:
        receiver.stop()
    db.session.expire_all()
    [delivery] = db.session.execute(sa.select(WebhookDelivery)).scalars()
    if served_name == "localhost":
        [received] = receiver.accepted
        assert received.headers["host"] == f"localhost:{receiver.port}"
        assert delivery.state == "delivered"
    else:
        assert receiver.accepted == [] and delivery.state == "retrying"
        assert "CERTIFICATE_VERIFY_FAILED" in delivery.attempt_log[0].error
