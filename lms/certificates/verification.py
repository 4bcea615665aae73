"""Public verification: one code looked up (its stamp, or with its holder), or many at once; each view counted.

Views are counted in memory and written a few seconds later (lms.certificates.tally); a bulk lookup writes its
counts at once, in one UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from lms.certificates.codes import CodeError, ParsedCode, parse_code
from lms.certificates.lookup import find_certificate, select_with_current
from lms.certificates.models import Certificate, CertificateVersion, Status, status_of
from lms.certificates.tally import tally_of
from lms.clock import now_utc
from lms.database import single_read
from lms.errors import DomainError
from lms.extensions import db

MAX_BULK_CODES = 500


@dataclass(frozen=True)
class Verification:
    """One looked-up code: what the verifier typed, and what we found."""

    entered: str
    status: Status | None  # None: the text is not a well-formed code
    code: ParsedCode | None = None
    certificate: Certificate | None = None
    problem: str = ""

    @property
    def status_label(self) -> str:
        if self.status is None:
            return "INVALID CODE"
        return self.status.value.replace("_", " ").upper()


def count_verifications(codes: Iterable[str]) -> int:
    """Add one to the verification count of each certificate with these canonical codes; commit; return how many.

    Counted before the certificates are read, so the read that follows sees the new counts (one UPDATE, one
    SELECT, whatever the number of codes).
    """
    wanted = sorted(set(codes))
    if not wanted:
        return 0
    result = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.code.in_(wanted))
        .values(verification_count=Certificate.verification_count + 1, last_verified_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Stamp:
    """What decides a certificate's public page: its identity, state (and since when) and current version, and the
    status now."""

    certificate_id: int
    code: str
    version_number: int
    state: str
    revoked_at: datetime | None
    status: Status
    suspended_at: datetime | None = None  # a suspension lifted and made again shows its own date


_STAMP = (
    sa.select(
        Certificate.id,
        Certificate.version_number,
        Certificate.state,
        Certificate.revoked_at,
        Certificate.suspended_at,
        CertificateVersion.expires_at,
    )
    .join(
        CertificateVersion,
        (CertificateVersion.certificate_id == Certificate.id)
        & (CertificateVersion.number == Certificate.version_number),
    )
    .where(Certificate.code == sa.bindparam("code"))
)


def stamp_code(code: ParsedCode) -> Stamp | None:
    """Look up a code's stamp (one small query) and count the view; None when no certificate has the code.

    A page rendered for one stamp is the same for every visitor until the stamp changes (a revocation, a new
    version, expiry), so the public page can be kept rendered under it.
    """
    with single_read() as connection:
        row = connection.execute(_STAMP, {"code": code.canonical}).one_or_none()
    if row is None:
        return None
    at = now_utc()
    tally_of(current_app).add(row.id, at)
    status = status_of(row.state, row.expires_at, at)
    return Stamp(
        row.id, code.canonical, row.version_number, row.state, row.revoked_at, status, row.suspended_at
    )


def verify_code(code: ParsedCode) -> Verification:
    """Look up one well-formed code with its holder (for the Open Badges assertion) and count the view (written
    with others a few seconds later, see tally). The public page reads only the stamp: stamp_code."""
    certificate = find_certificate(code.canonical, with_holder=True)
    if certificate is None:
        return Verification(code.display, Status.NOT_FOUND, code)
    at = now_utc()
    tally_of(current_app).add(certificate.id, at)
    return Verification(code.display, certificate.status_at(at), code, certificate)


def split_codes(text: str) -> list[str]:
    """Codes from pasted text or an uploaded file: one per line, or separated by commas, semicolons or tabs."""
    entries = []
    for line in text.replace("\r", "\n").split("\n"):
        for part in line.replace(";", ",").replace("\t", ",").split(","):
            part = part.strip().strip('"').strip()
            if part and part.lower() not in {"code", "certificate", "certificate code"}:
                entries.append(part)
    return entries


def verify_many(entries: Sequence[str]) -> list[Verification]:
    """Verify a list of codes in a constant number of queries, however many (one SELECT, one UPDATE)."""
    if len(entries) > MAX_BULK_CODES:
        raise DomainError(
            f"Verify at most {MAX_BULK_CODES} codes at a time; this list has {len(entries)}.", field="codes"
        )
    parsed: list[tuple[str, ParsedCode | None, str]] = []
    for entry in entries:
        try:
            parsed.append((entry, parse_code(entry), ""))
        except CodeError as error:
            parsed.append((entry, None, str(error)))
    wanted = {code.canonical for _, code, _ in parsed if code is not None}
    found: dict[str, Certificate] = {}
    if wanted and count_verifications(wanted):
        rows = (
            db.session.execute(select_with_current().where(Certificate.code.in_(sorted(wanted))))
            .unique()
            .scalars()
        )
        found = {c.code: c for c in rows}
    at = now_utc()
    results = []
    for entry, code, problem in parsed:
        if code is None:
            results.append(Verification(entry[:64], None, None, None, problem))
        elif code.canonical in found:
            certificate = found[code.canonical]
            results.append(Verification(entry[:64], certificate.status_at(at), code, certificate))
        else:
            results.append(Verification(entry[:64], Status.NOT_FOUND, code))
    return results
