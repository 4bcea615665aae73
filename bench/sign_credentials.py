"""Benchmark the Open Badges 3.0 credentials on one core: signing, and the status lists at 100 000 certificates.

Measures, in one process, on a database of its own (SQLite in a temporary folder, or LMS_DATABASE_URL):
- signing: credentials built, signed (RDFC-1.0 canonicalization with pyld, Ed25519) and stored per second, the
  way the first request of each /verify/<code>/credential.json does it; and the proof alone, per second;
- a cohort: how long the first credential of each of 1 000 certificates takes in all (--cohort);
- the status lists at --certificates places (100 000 by default, 1 % revoked): a new random place in a list that
  full, the list signed again after a revocation, and the list served unchanged.

    .venv/bin/python bench/sign_credentials.py                     # prints one JSON object
    .venv/bin/python bench/sign_credentials.py --certificates 20000 --sign 100 --cohort 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NO_PASSWORD = "-"  # noqa: S105 (not a hash of anything: these accounts never sign in)


def _timed(action: Callable[[], Any], times: int) -> list[float]:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def _summary(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0] * 1000, 3),
        "per_second": round(len(ordered) / sum(ordered), 1),
    }


def _population(db: Any, certificates: int, revoked_share: float) -> list[int]:
    """Users, tracks and certificates inserted in bulk (not through the operations: that would take hours), each
    with its places in both lists drawn at random as status_list does. Returns the certificate ids."""
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.certificates import status_list
    from lms.certificates.credential_models import CredentialStatusEntry, StatusPurpose
    from lms.certificates.models import Certificate
    from lms.clock import now_utc
    from lms.courses.models import Track

    tracks = max(1, certificates // 1000)
    users = -(-certificates // tracks)
    db.session.execute(
        sa.insert(Track),
        [
            {"slug": f"population-{n}", "title": f"Population track {n}", "summary": "", "certifies": "Bench.",
             "validity_months": 24, "completion": {"modules": "all"}, "source_hash": "bench"}
            for n in range(tracks)
        ],
    )  # fmt: skip
    db.session.execute(
        sa.insert(User),
        [
            {"email": f"population{n}@example.org", "full_name": f"Person {n}", "password_hash": NO_PASSWORD}
            for n in range(users)
        ],
    )
    track_ids = list(db.session.scalars(sa.select(Track.id).where(Track.slug.like("population-%"))))
    user_ids = list(db.session.scalars(sa.select(User.id).where(User.email.like("population%"))))
    at = now_utc()
    rows = []
    for n in range(certificates):
        revoked = random.random() < revoked_share
        rows.append(
            {
                "code": secrets.token_hex(6).upper(),
                "user_id": user_ids[n // len(track_ids)],
                "track_id": track_ids[n % len(track_ids)],
                "state": "revoked" if revoked else "active",
                "recipient_salt": secrets.token_hex(16),
                "revoked_at": at if revoked else None,
                "revoked_reason": "Benchmark" if revoked else None,
                "created_at": at,
            }
        )
    for start in range(0, len(rows), 10_000):
        db.session.execute(sa.insert(Certificate), rows[start : start + 10_000])
    ids = list(db.session.scalars(sa.select(Certificate.id).where(Certificate.track_id.in_(track_ids))))
    for purpose in StatusPurpose:
        places = random.sample(range(status_list.LIST_SIZE), len(ids))
        entries = [
            {"certificate_id": cid, "purpose": purpose.value, "list_number": 1, "list_index": index}
            for cid, index in zip(ids, places, strict=True)
        ]
        for start in range(0, len(entries), 10_000):
            db.session.execute(sa.insert(CredentialStatusEntry), entries[start : start + 10_000])
    db.session.commit()
    return ids


def run(args: argparse.Namespace) -> dict[str, Any]:
    import sqlalchemy as sa

    from lms import create_app
    from lms.accounts.models import User
    from lms.certificates import credentials, operations, status_list
    from lms.certificates.credential_models import CredentialStatusEntry, StatusPurpose
    from lms.certificates.credentials_proof import sign_document
    from lms.certificates.keys import newest_key
    from lms.certificates.models import Certificate
    from lms.extensions import db
    from tests.fixtures.courses.samples import make_track

    app = create_app({"RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    results: dict[str, Any] = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]}
    with app.app_context(), app.test_request_context():
        db.create_all()
        staff = User(
            email="bench-staff@example.org",
            full_name="Bench Staff",
            password_hash=NO_PASSWORD,
            role="admin",
        )
        db.session.add(staff)
        track = make_track(slug="bench-signed")
        db.session.commit()

        def new_certificate(n: int) -> Any:
            holder = User(email=f"holder{n}@example.org", full_name=f"Holder {n}", password_hash=NO_PASSWORD)
            db.session.add(holder)
            db.session.commit()
            return operations.issue_certificate(holder, track, staff, "Benchmark")

        certificates = [new_certificate(n) for n in range(args.sign)]
        queue = list(certificates)
        first = _timed(lambda: credentials.credential_json(queue.pop()), args.sign)
        results["credential_first_request"] = _summary(first)
        document = credentials.build_credential(
            certificates[0], certificates[0].current, status_list.status_entries(certificates[0])
        )
        key = newest_key()
        proof_only = _timed(
            lambda: sign_document(document, key, "did:web:bench#key", certificates[0].created_at), args.sign
        )
        results["proof_only"] = _summary(proof_only)

        cohort = [new_certificate(args.sign + n) for n in range(args.cohort)]
        started = time.perf_counter()
        for certificate in cohort:
            credentials.credential_json(certificate)
        results["cohort"] = {"certificates": args.cohort, "seconds": round(time.perf_counter() - started, 2)}

        # The status lists, as full as --certificates makes them (the lists above are emptied first).
        db.session.execute(CredentialStatusEntry.__table__.delete())
        db.session.commit()
        started = time.perf_counter()
        ids = _population(db, args.certificates, args.revoked)
        results["population"] = {
            "certificates": len(ids),
            "list_size": status_list.LIST_SIZE,
            "seconds_to_insert": round(time.perf_counter() - started, 1),
        }
        spare = [new_certificate(10_000_000 + n) for n in range(args.places)]
        results["new_place_in_a_list_that_full"] = _summary(
            _timed(lambda: status_list.status_entries(spare.pop()), args.places)
        )
        db.session.commit()

        active = list(
            db.session.scalars(
                sa.select(Certificate.id)
                .where(Certificate.state == "active", Certificate.id.in_(ids[:1000]))
                .limit(20)
            )
        )

        def revoke_one_and_sign() -> None:
            operations.revoke_certificate(db.session.get(Certificate, active.pop()), staff, "Benchmark")
            status_list.status_list_json(StatusPurpose.REVOCATION, 1)

        results["status_list_after_a_revocation"] = _summary(_timed(revoke_one_and_sign, len(active)))
        results["status_list_unchanged"] = _summary(
            _timed(lambda: status_list.status_list_json(StatusPurpose.REVOCATION, 1), 50)
        )
        indexes = status_list.set_indexes(StatusPurpose.REVOCATION, 1)
        results["revoked_in_list"] = len(indexes)
        results["encode_list_only"] = _summary(_timed(lambda: status_list.encode_list(indexes), 50))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--certificates", type=int, default=100_000, help="places in the status lists")
    parser.add_argument("--revoked", type=float, default=0.01, help="share of them revoked")
    parser.add_argument("--sign", type=int, default=200, help="credentials signed for the rate")
    parser.add_argument("--cohort", type=int, default=1000, help="certificates of the cohort signed in a row")
    parser.add_argument("--places", type=int, default=200, help="new places drawn in the full list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-bench-credentials-") as folder:
        os.environ["LMS_INSTANCE_PATH"] = folder
        os.environ.setdefault("LMS_DATABASE_URL", f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        os.environ.setdefault("LMS_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
        print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
