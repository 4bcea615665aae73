"""Bitstring Status Lists (W3C VC Bitstring Status List v1.0): where each certificate sits, and the signed lists.

Every certificate gets a place in a revocation list and in a suspension list the first time its credential is
built: a random index (from `secrets`), unique in its list, so the lists say nothing of how many certificates were
issued or in what order. A list holds 131 072 places (the specification's minimum, 16 KB); when random draws keep
landing on taken places, the next list of that purpose opens.

The bits are read from the database whenever a list is asked for: the revocation bit is set when the certificate
is revoked, the suspension bit when `set_suspension` set it. The signed BitstringStatusListCredential is kept with a
digest of what it says, and signed again only when that changes (a revocation, a suspension, a new key or address).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for

from lms.certificates.credential_models import CredentialStatusEntry, StatusListCredential, StatusPurpose
from lms.certificates.credentials_did import issuer_did, verification_method_id
from lms.certificates.credentials_jsonld import VC_V2_CONTEXT
from lms.certificates.credentials_proof import sign_document, timestamp
from lms.certificates.keys import newest_key
from lms.certificates.models import Certificate, CertificateState
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db

LIST_SIZE = 131_072
CANDIDATES_PER_DRAW = 16  # random places looked up at once; when all are taken, the list counts as full
MAX_DRAWS = 64


# --- places in the lists ---------------------------------------------------------------------------------------


def _free_place(purpose: StatusPurpose, number: int) -> int | None:
    """A random free index of the list, or None when every candidate drawn is taken (the list is nearly full)."""
    candidates = {secrets.randbelow(LIST_SIZE) for _ in range(CANDIDATES_PER_DRAW)}
    taken = set(
        db.session.execute(
            sa.select(CredentialStatusEntry.list_index).where(
                CredentialStatusEntry.purpose == purpose.value,
                CredentialStatusEntry.list_number == number,
                CredentialStatusEntry.list_index.in_(sorted(candidates)),
            )
        ).scalars()
    )
    free = sorted(candidates - taken)
    return secrets.choice(free) if free else None


def _entry_of(certificate_id: int, purpose: StatusPurpose) -> CredentialStatusEntry | None:
    return db.session.execute(
        sa.select(CredentialStatusEntry).where(
            CredentialStatusEntry.certificate_id == certificate_id,
            CredentialStatusEntry.purpose == purpose.value,
        )
    ).scalar_one_or_none()


def _assign_place(certificate_id: int, purpose: StatusPurpose) -> CredentialStatusEntry:
    """Give the certificate a random free place in the newest list of the purpose (in a savepoint: a concurrent
    assignment of the same place, or of a place to the same certificate, is settled by the unique constraints)."""
    newest = db.session.execute(
        sa.select(sa.func.max(CredentialStatusEntry.list_number)).where(
            CredentialStatusEntry.purpose == purpose.value
        )
    ).scalar_one()
    number = newest or 1
    for _draw in range(MAX_DRAWS):
        index = _free_place(purpose, number)
        if index is None:
            number += 1
            continue
        entry = CredentialStatusEntry(
            certificate_id=certificate_id, purpose=purpose.value, list_number=number, list_index=index
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        except sa.exc.IntegrityError:
            assigned = _entry_of(certificate_id, purpose)
            if assigned is not None:
                return assigned  # another request gave this certificate its place first
            continue  # the place was taken meanwhile: draw again
        return entry
    raise DomainError("No place could be found in the status lists just now. Please try again.")


def status_entries(certificate: Certificate) -> dict[StatusPurpose, CredentialStatusEntry]:
    """The certificate's place in each list, assigned now where it has none (no commit: the caller's)."""
    rows = db.session.execute(
        sa.select(CredentialStatusEntry).where(CredentialStatusEntry.certificate_id == certificate.id)
    ).scalars()
    entries = {StatusPurpose(row.purpose): row for row in rows}
    for purpose in StatusPurpose:
        if purpose not in entries:
            entries[purpose] = _assign_place(certificate.id, purpose)
    return entries


def set_suspension(certificate: Certificate, suspended: bool) -> CredentialStatusEntry:
    """Set (or clear) the certificate's suspension bit, from the next time its list is asked for.

    Runs inside the caller's transaction and does not commit: a suspension operation calls it with its own change.
    """
    entry = status_entries(certificate)[StatusPurpose.SUSPENSION]
    entry.suspended = suspended
    db.session.flush()
    return entry


# --- the lists ---------------------------------------------------------------------------------------------------


def status_list_url(purpose: StatusPurpose, number: int) -> str:
    path = url_for("certificates.credential_status_list", purpose=purpose.value, number=number)
    return str(current_app.config["BASE_URL"]) + path


def status_entry_document(entry: CredentialStatusEntry) -> dict[str, Any]:
    """The `credentialStatus` item of a credential for one of its places."""
    list_url = status_list_url(StatusPurpose(entry.purpose), entry.list_number)
    return {
        "id": f"{list_url}#{entry.list_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry.purpose,
        "statusListIndex": str(entry.list_index),
        "statusListCredential": list_url,
    }


def set_indexes(purpose: StatusPurpose, number: int) -> list[int]:
    """The indexes whose bit is set in a list now: revoked certificates, or those set_suspension suspended.

    Read from the few set places (partial indexes hold the revoked certificates and the suspended places), never
    by going through every place of the list: the list's number is picked out here, not by the database, whose
    planner would otherwise walk the list's 100 000 places."""
    entry = CredentialStatusEntry
    if purpose is StatusPurpose.REVOCATION:
        revoked = sa.select(Certificate.id).where(Certificate.state == CertificateState.REVOKED.value)
        stmt = sa.select(entry.list_number, entry.list_index).where(
            entry.certificate_id.in_(revoked.scalar_subquery()), entry.purpose == purpose.value
        )
    else:
        stmt = sa.select(entry.list_number, entry.list_index).where(entry.suspended == sa.true())
    return sorted(row.list_index for row in db.session.execute(stmt) if row.list_number == number)


def encode_list(indexes: list[int], size: int = LIST_SIZE) -> str:
    """`encodedList`: the bitstring (index 0 the left-most bit of the first byte), GZIP-compressed, as multibase
    base64url without padding ("u...")."""
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList` (the reverse of encode_list)."""
    if not encoded.startswith("u"):
        raise ValueError("an encodedList is multibase base64url: it starts with 'u'")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def bit_is_set(encoded: str, index: int) -> bool:
    return bool(decode_list(encoded)[index // 8] & (0x80 >> (index % 8)))


def list_exists(purpose: StatusPurpose, number: int) -> bool:
    """List 1 of each purpose always exists; a later one once a certificate has a place in it."""
    if number == 1:
        return True
    return number > 1 and bool(
        db.session.execute(
            sa.select(sa.literal(1)).where(
                CredentialStatusEntry.purpose == purpose.value, CredentialStatusEntry.list_number == number
            )
        ).first()
    )


def status_list_json(purpose: StatusPurpose, number: int) -> str:
    """The signed BitstringStatusListCredential of a list as it stands now: the one kept when its bits, issuer and
    key are unchanged, else signed anew and kept."""
    did, key = issuer_did(), newest_key()
    method = verification_method_id(key, did)
    indexes = set_indexes(purpose, number)
    digest = hashlib.sha256(json.dumps([did, method, indexes]).encode()).hexdigest()
    kept = db.session.execute(
        sa.select(StatusListCredential).where(
            StatusListCredential.purpose == purpose.value, StatusListCredential.list_number == number
        )
    ).scalar_one_or_none()
    if kept is not None and kept.bits_digest == digest:
        return kept.document
    at = now_utc()
    url = status_list_url(purpose, number)
    unsigned = {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": timestamp(at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose.value,
            "encodedList": encode_list(indexes),
        },
    }
    document = json.dumps(sign_document(unsigned, key, method, at), indent=2)
    if kept is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    StatusListCredential(
                        purpose=purpose.value,
                        list_number=number,
                        bits_digest=digest,
                        document=document,
                        signed_at=at,
                    )
                )
        except sa.exc.IntegrityError:
            pass  # a concurrent request kept its own copy first; ours is as true, and served this once
    else:
        kept.bits_digest, kept.document, kept.signed_at = digest, document, at
    db.session.commit()
    return document
