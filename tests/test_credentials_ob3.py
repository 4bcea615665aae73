"""Open Badges 3.0 credentials: every field the specification requires, the proof, the issuer's did:web and keys,
the status lists and their random places, served where machines look, and JSON-LD that never goes online.

Digital Bazaar's independent verifier checks the same credentials in test_credentials_verifier.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import socket
import stat
import threading

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.certificates import openbadges, operations, status_list
from lms.certificates.credential_models import CredentialStatusEntry, SignedCredential, StatusPurpose
from lms.certificates.credentials import MEDIA_TYPE, criteria_narrative
from lms.certificates.credentials_did import did_document, did_for_address
from lms.certificates.credentials_jsonld import NotOffline, TermNotDefined, canonicalize, load_document
from lms.certificates.credentials_proof import verify_proof
from lms.certificates.keys import (
    SigningKeyError,
    _create_keyring,
    decode_base58btc,
    encode_base58btc,
    new_secret_key_text,
    parse_secret_key,
    public_key_from_multibase,
    read_keyring,
    signing_keys,
)
from lms.database import dispose_engines
from lms.extensions import db
from lms.quizzes.models import Quiz
from tests.fixtures.courses.samples import make_track

DATE_TIME_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@pytest.fixture
def keyring(app_config, tmp_path):
    """Settings with a keyring of the test's own (the shared instance folder's is never rotated)."""
    return {**app_config, "SIGNING_KEY_FILE": str(tmp_path / "signing_keys")}


@pytest.fixture
def issue(admin, make_user):
    """Issue a certificate by hand to a new student, on a new track; returns the certificate."""
    count = iter(range(1, 10_000))

    def issue_one(rule=None, validity_months=12, track=None):
        n = next(count)
        if track is None:
            track = make_track(slug=f"ob3-{n}")
            track.completion = rule if rule is not None else {"modules": "all", "quizzes": []}
            track.validity_months = validity_months
            db.session.commit()
        return operations.issue_certificate(make_user(), track, admin, "OB3 test")

    return issue_one


def fetch_credential(client, certificate):
    response = client.get(f"/verify/{certificate.display_code}/credential.json")
    assert response.status_code == 200, response.data
    assert response.mimetype == MEDIA_TYPE
    return json.loads(response.data)


def public_key_in_did_document(method_id):
    for method in did_document()["verificationMethod"]:
        if method["id"] == method_id:
            return public_key_from_multibase(method["publicKeyMultibase"])
    return None


# --- the credential ----------------------------------------------------------------------------------------------


def test_the_credential_has_every_field_open_badges_3_requires(client, issue, app):
    certificate = issue(validity_months=24)
    credential = fetch_credential(client, certificate)

    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert URI.match(credential["id"])
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert credential["name"] == f"Certified {certificate.current.track_title}"
    assert DATE_TIME_Z.match(credential["validFrom"]) and DATE_TIME_Z.match(credential["validUntil"])
    assert credential["validUntil"] == certificate.current.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    issuer = credential["issuer"]
    assert issuer["id"] == did_for_address(app.config["BASE_URL"]) == "did:web:127.0.0.1%3A5000"
    assert "Profile" in issuer["type"] and issuer["name"] == app.config["ORGANIZATION_NAME"]
    assert issuer["url"] == app.config["BASE_URL"] + "/"

    subject = credential["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    assert "id" in subject or subject["identifier"]  # one of them is required: we name no one in clear
    (identity,) = subject["identifier"]
    assert identity["type"] == "IdentityObject" and identity["identityType"] == "emailAddress"
    assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")

    achievement = subject["achievement"]
    assert URI.match(achievement["id"]) and "Achievement" in achievement["type"]
    assert achievement["name"] and achievement["description"] == certificate.current.certifies
    assert achievement["criteria"]["narrative"]
    assert achievement["image"]["type"] == "Image" and URI.match(achievement["image"]["id"])

    purposes = [entry["statusPurpose"] for entry in credential["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    for entry in credential["credentialStatus"]:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListIndex"].isdigit()
        assert entry["statusListCredential"].startswith(app.config["BASE_URL"] + "/credentials/status/")
        assert entry["id"] != entry["statusListCredential"]

    proof = credential["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod" and DATE_TIME_Z.match(proof["created"])
    assert proof["verificationMethod"].startswith(issuer["id"] + "#z6Mk")
    assert proof["proofValue"].startswith("z")
    assert "credentialSchema" not in credential  # so the extensions context is not needed


def test_a_certificate_that_never_expires_has_no_end_of_validity(client, issue):
    assert "validUntil" not in fetch_credential(client, issue(validity_months=0))


def test_the_holder_is_named_by_the_same_salted_hash_as_in_the_open_badges_2_assertion(client, issue):
    certificate = issue()
    (identity,) = fetch_credential(client, certificate)["credentialSubject"]["identifier"]
    recipient = openbadges.assertion(operations.find_certificate(certificate.code, with_holder=True))[
        "recipient"
    ]
    assert identity["identityHash"] == recipient["identity"]
    assert identity["salt"] == recipient["salt"] == certificate.recipient_salt
    assert certificate.user.email not in json.dumps(fetch_credential(client, certificate))


def test_criteria_are_in_words_with_titles_never_internal_slugs(issue):
    rule = {"modules": "all", "quizzes": ["strategist-final", "campaign-check"], "assignment": "handbook"}
    certificate = issue(rule=rule)
    db.session.add(
        Quiz(
            slug="strategist-final",
            title="The strategist's final exam",
            track_id=certificate.track_id,
            kind="final",
            time_limit_seconds=1800,
            pass_percent=70,
            draw=10,
            source_hash="test",
        )
    )
    # As if the completion rule had issued it: a hand-issued one says it was awarded by decision
    # (test_certificate_suspension checks that wording).
    certificate.current.basis = "completion"
    db.session.commit()
    narrative = criteria_narrative(certificate.track, certificate.current)
    assert "“The strategist's final exam”" in narrative
    assert "“Campaign check”" in narrative  # no quiz row: its slug, put in words
    assert "“Module 1” and “Module 2”" in narrative and "assignment “Handbook”" in narrative
    assert not re.search(r"strategist-final|campaign-check|\bhandbook\b", narrative)


def test_a_version_is_served_byte_for_byte_as_first_signed(client, issue):
    certificate = issue()
    url = f"/verify/{certificate.display_code}/credential.json"
    first = client.get(url)
    second = client.get(url)
    assert first.data == second.data
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert db.session.execute(sa.select(sa.func.count()).select_from(SignedCredential)).scalar_one() == 1


def test_a_new_version_has_a_credential_of_its_own_with_the_same_status_places(client, issue, admin):
    certificate = issue()
    before = fetch_credential(client, certificate)
    operations.reissue_certificate(certificate, admin, "Name corrected", holder_name="Stella Q. Student")
    after = fetch_credential(client, certificate)
    assert after["id"] != before["id"] and after["proof"] != before["proof"]
    assert after["credentialStatus"] == before["credentialStatus"]


def test_unknown_malformed_and_revoked_codes(client, issue, admin):
    assert client.get("/verify/7KQ2-M9XD-4TRW-H/credential.json").status_code == 404
    response = client.get("/verify/not-a-code/credential.json")
    assert response.status_code == 404 and response.get_json()["error"] == "Not found"

    certificate = issue()
    sloppy = certificate.display_code.lower().replace("-", "")
    redirected = client.get(f"/verify/{sloppy}/credential.json")
    assert redirected.status_code == 301
    assert redirected.location.endswith(f"/verify/{certificate.display_code}/credential.json")

    operations.revoke_certificate(certificate, admin, "Issued in error")
    assert fetch_credential(client, certificate)["credentialStatus"][0]["statusPurpose"] == "revocation"


def test_our_own_check_accepts_the_proof_and_catches_any_change(client, issue):
    credential = fetch_credential(client, issue())
    assert verify_proof(credential, public_key_in_did_document)
    for change in (
        lambda c: c.update(name="Certified Nothing"),
        lambda c: c["credentialSubject"]["achievement"].update(description="Something else."),
        lambda c: c["credentialStatus"][1].update(statusListIndex="1"),
        lambda c: c["proof"].update(created="2020-01-01T00:00:00Z"),
    ):
        tampered = json.loads(json.dumps(credential))
        change(tampered)
        assert not verify_proof(tampered, public_key_in_did_document)


# --- JSON-LD, offline and strict ----------------------------------------------------------------------------------


MINIMAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
    "type": ["VerifiableCredential"],
    "issuer": "did:web:example.org",
    "validFrom": "2025-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:web:example.org:holder"},
}


@pytest.mark.parametrize(
    "change",
    [
        {"nmae": "A misspelt property"},
        {"type": ["VerifiableCredential", "MadeUpCredential"]},
        {"credentialSubject": {"id": "did:web:example.org:holder", "achievment": {"name": "x"}}},
        {"id": "relative/id"},
        {"name": "A bell\x07 in the text"},
    ],
)
def test_a_term_that_does_not_expand_cleanly_is_refused_before_signing(change):
    assert canonicalize(MINIMAL)
    with pytest.raises(TermNotDefined):
        canonicalize({**MINIMAL, **change})


def test_json_ld_contexts_are_never_fetched(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert load_document("https://www.w3.org/ns/credentials/v2")["document"]["@context"]
    for url in (
        "https://example.org/context.json",
        "https://www.w3.org/2018/credentials/v1",
        "file:///etc/passwd",
    ):
        with pytest.raises(NotOffline):
            load_document(url)
    with pytest.raises(Exception, match=r"example\.org"):
        canonicalize({**MINIMAL, "@context": [*MINIMAL["@context"], "https://example.org/context.json"]})


# --- the issuer's did:web and keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "did"),
    [
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
        ("https://academy.example.org", "did:web:academy.example.org"),
        ("https://Academy.Example.org/", "did:web:academy.example.org"),
        ("https://example.org:8443/training/lms", "did:web:example.org%3A8443:training:lms"),
    ],
)
def test_the_did_web_of_an_address(address, did):
    assert did_for_address(address) == did


def test_the_did_document_lists_every_key_as_a_multikey_that_may_assert(client, app):
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    document = response.get_json(force=True)
    did = "did:web:127.0.0.1%3A5000"
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert document["id"] == did
    keys = signing_keys()
    assert [m["publicKeyMultibase"] for m in document["verificationMethod"]] == [
        k.public_multibase for k in keys
    ]
    for method in document["verificationMethod"]:
        assert method["type"] == "Multikey" and method["controller"] == did
        assert method["id"] == f"{did}#{method['publicKeyMultibase']}"
        assert method["publicKeyMultibase"].startswith("z6Mk")
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    assert client.get("/did.json").status_code == 404


@pytest.mark.app_config(BASE_URL="https://learn.example.org/academy")
def test_an_address_with_a_path_serves_the_did_document_at_its_path(client):
    document = client.get("/did.json").get_json(force=True)
    assert document["id"] == "did:web:learn.example.org:academy"
    assert client.get("/.well-known/did.json").status_code == 404


def test_a_new_public_address_signs_the_version_again_under_the_new_did(app, client, issue):
    certificate = issue()
    before = fetch_credential(client, certificate)
    app.config["BASE_URL"] = "https://learn.example.org"
    after = fetch_credential(client, certificate)
    assert before["issuer"]["id"] == "did:web:127.0.0.1%3A5000"
    assert after["issuer"]["id"] == "did:web:learn.example.org"
    assert db.session.execute(sa.select(sa.func.count()).select_from(SignedCredential)).scalar_one() == 1


def test_base58btc_and_the_multikey_forms():
    assert encode_base58btc(b"Hello World!") == "z2NEpo7TZRRrLZSi2U"
    assert encode_base58btc(bytes([0, 0, 0x28, 0x7F, 0xB4, 0xCD])) == "z11233QC4"
    assert decode_base58btc("z11233QC4") == bytes([0, 0, 0x28, 0x7F, 0xB4, 0xCD])
    secret = new_secret_key_text()
    assert secret.startswith("z3u2")
    key = parse_secret_key(secret)
    assert key.public_multibase.startswith("z6Mk")
    assert public_key_from_multibase(key.public_multibase).public_bytes_raw() == key.public.public_bytes_raw()
    assert secret not in repr(key)
    for junk in ("", "z", "not-a-key", "z6MkkL6EzKHqYE46PYioMxAv2gxz7Lr2cNf5mYW77JKi9GWb"):
        with pytest.raises(ValueError) as raised:
            parse_secret_key(junk)
        assert len(junk) < 4 or junk not in str(raised.value)  # the message never repeats the key text
    ring = read_keyring(f"# a comment\n{secret}\n\n{new_secret_key_text()}, # the newest\n")
    assert len(ring) == 2 and ring[0] == key


def test_processes_starting_together_make_one_development_keyring(tmp_path):
    path = tmp_path / "instance" / "signing_keys"
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def start_up() -> None:
        start.wait()
        try:
            _create_keyring(path)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read_keyring(path.read_text())) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing_keys"]
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "a-long-random-secret")
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("LMS_SIGNING_KEY", "LMS_SIGNING_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _started() -> bool:
    app = create_app()
    with app.app_context():
        dispose_engines(db.engine)
    return True


def test_production_refuses_to_start_without_signing_keys(production, tmp_path):
    with pytest.raises(RuntimeError, match="LMS_SIGNING_KEY_FILE or LMS_SIGNING_KEY"):
        create_app()
    assert not (tmp_path / "instance" / "signing_keys").exists()  # production never makes one itself

    production.setenv("LMS_SIGNING_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="cannot be read"):
        create_app()

    production.setenv("LMS_SIGNING_KEY_FILE", "")
    production.setenv("LMS_SIGNING_KEY", "z3u2-not-a-key")
    with pytest.raises(RuntimeError, match="not valid"):
        create_app()

    production.setenv("LMS_SIGNING_KEY", new_secret_key_text())
    assert _started()
    keyring_file = tmp_path / "keyring"
    keyring_file.write_text(new_secret_key_text() + "\n")
    production.setenv("LMS_SIGNING_KEY_FILE", str(keyring_file))
    assert _started()


def test_rotation_adds_a_key_that_signs_from_then_on_and_earlier_credentials_still_verify(
    app, client, issue, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "SIGNING_KEY_FILE", str(tmp_path / "keyring"))
    (tmp_path / "keyring").write_text(new_secret_key_text())  # no final new line: rotation adds one first
    before = fetch_credential(client, issue())
    result = app.test_cli_runner().invoke(args=["lms", "rotate-signing-key"])
    assert result.exit_code == 0, result.output
    after = fetch_credential(client, issue())
    old, new = signing_keys()
    assert f"#{new.public_multibase}" in result.output and old.public_multibase not in result.output
    assert before["proof"]["verificationMethod"].endswith(old.public_multibase)
    assert after["proof"]["verificationMethod"].endswith(new.public_multibase)
    assert verify_proof(before, public_key_in_did_document) and verify_proof(
        after, public_key_in_did_document
    )


def test_keys_given_in_the_environment_are_not_rotated_from_the_command_line(app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_KEY_FILE", "")
    monkeypatch.setitem(app.config, "SIGNING_KEY", new_secret_key_text())
    result = app.test_cli_runner().invoke(args=["lms", "rotate-signing-key"])
    assert result.exit_code != 0 and "LMS_SIGNING_KEY" in result.output
    with pytest.raises(SigningKeyError):
        from lms.certificates.keys import rotate_signing_key

        rotate_signing_key(app)


# --- status lists ------------------------------------------------------------------------------------------------


def test_status_places_are_random_unique_and_not_in_issue_order(client, issue):
    certificates = [issue() for _ in range(24)]
    for certificate in certificates:
        fetch_credential(client, certificate)
    for purpose in StatusPurpose:
        rows = db.session.execute(
            sa.select(CredentialStatusEntry.certificate_id, CredentialStatusEntry.list_index)
            .where(CredentialStatusEntry.purpose == purpose.value)
            .order_by(CredentialStatusEntry.certificate_id)
        ).all()
        indexes = [index for _, index in rows]
        assert len(rows) == len(certificates) and len(set(indexes)) == len(indexes)
        assert all(0 <= index < status_list.LIST_SIZE for index in indexes)
        assert indexes != sorted(indexes) and indexes != sorted(indexes, reverse=True)
        assert max(indexes) - min(indexes) > status_list.LIST_SIZE // 4  # spread over the list, not bunched


def test_a_full_list_opens_the_next_one(client, issue, monkeypatch):
    monkeypatch.setattr(status_list, "LIST_SIZE", 8)
    certificates = [issue() for _ in range(12)]
    for certificate in certificates:
        fetch_credential(client, certificate)
    places = db.session.execute(
        sa.select(CredentialStatusEntry.list_number, CredentialStatusEntry.list_index).where(
            CredentialStatusEntry.purpose == "revocation"
        )
    ).all()
    assert len(set(places)) == 12 and {number for number, _ in places} >= {1, 2}
    assert all(0 <= index < 8 for _, index in places)
    assert client.get("/credentials/status/revocation/2").status_code == 200
    assert client.get("/credentials/status/revocation/9").status_code == 404


def test_the_status_list_follows_revocation_and_suspension_and_is_signed_again_only_on_change(
    client, issue, admin
):
    revoked, suspended = issue(), issue()
    places = {}
    for certificate in (revoked, suspended):
        credential = fetch_credential(client, certificate)
        places[certificate.id] = {
            s["statusPurpose"]: int(s["statusListIndex"]) for s in credential["credentialStatus"]
        }

    def status_list_document(purpose):
        response = client.get(f"/credentials/status/{purpose}/1")
        assert response.status_code == 200 and response.mimetype == MEDIA_TYPE
        return response.data

    empty = status_list_document("revocation")
    assert status_list_document("revocation") == empty  # unchanged: the same signed document
    document = json.loads(empty)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["issuer"] == "did:web:127.0.0.1%3A5000"
    subject = document["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["id"] == document["id"] + "#list"
    encoded = subject["encodedList"]
    assert encoded.startswith("u") and "=" not in encoded  # multibase base64url, no padding
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert compressed[:2] == b"\x1f\x8b"  # GZIP
    bits = gzip.decompress(compressed)
    assert bits == status_list.decode_list(encoded)
    assert len(bits) * 8 == 131_072 and not any(bits)
    assert verify_proof(document, public_key_in_did_document)

    operations.revoke_certificate(revoked, admin, "Issued in error")
    status_list.set_suspension(suspended, True)
    db.session.commit()
    revocations = json.loads(status_list_document("revocation"))
    suspensions = json.loads(status_list_document("suspension"))
    encoded = revocations["credentialSubject"]["encodedList"]
    assert status_list.bit_is_set(encoded, places[revoked.id]["revocation"])
    assert not status_list.bit_is_set(encoded, places[suspended.id]["revocation"])
    assert status_list.set_indexes(StatusPurpose.REVOCATION, 1) == [places[revoked.id]["revocation"]]
    encoded = suspensions["credentialSubject"]["encodedList"]
    assert status_list.bit_is_set(encoded, places[suspended.id]["suspension"])
    assert not status_list.bit_is_set(encoded, places[revoked.id]["suspension"])
    assert verify_proof(revocations, public_key_in_did_document)

    status_list.set_suspension(suspended, False)
    db.session.commit()
    cleared = json.loads(status_list_document("suspension"))["credentialSubject"]["encodedList"]
    assert not any(status_list.decode_list(cleared))


def test_a_suspension_before_the_first_credential_gives_the_certificate_its_places(issue):
    certificate = issue()
    entry = status_list.set_suspension(certificate, True)
    db.session.commit()
    assert entry.suspended and entry.purpose == "suspension"
    assert status_list.set_indexes(StatusPurpose.SUSPENSION, 1) == [entry.list_index]
    assert status_list.set_indexes(StatusPurpose.REVOCATION, 1) == []


def test_unknown_status_lists_are_not_found(client):
    assert client.get("/credentials/status/revocation/1").status_code == 200  # the first list always exists
    for url in (
        "/credentials/status/expiry/1",
        "/credentials/status/revocation/0",
        "/credentials/status/suspension/2",
    ):
        assert client.get(url).status_code == 404
