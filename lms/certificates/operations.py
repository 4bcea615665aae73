"""The certificate rules, in one place to import from: issue, reissue, renew, revoke, look up and verify.

Each rule lives in the module named for it; this module gathers them, so that views, the command line, other
features and tests need one import:

- issuing.py: by the completion rule (on_progress_changed, issue_if_eligible) or by hand (issue_certificate);
- reissuing.py, renewal.py, revoking.py: a new version under the same code, another validity period, revocation;
- recertification.py: the fresh evidence renewal asks for (the recertification exam passed in the window);
- suspension.py: a certificate whose basis is withdrawn is suspended (under review) and restored when it holds
  again, by the platform or by staff (restore_certificate);
- history.py: what every change writes (a version, a history entry) and the checks of reasons and names;
- validity.py: expiry dates and the renewal window;
- lookup.py: reading certificates (by code, by holder, for staff) and the canonical verification URL;
- verification.py: public lookups of one code or many, each view counted;
- pdf.py: the PDF of a version, rendered once and kept.

Nothing is ever deleted: a revoked certificate stays (and says so), a reissue or renewal adds a version under the
same code, and each change adds a CertificateEvent with who, when and why, and emits a domain event (lms.events).
"""

from __future__ import annotations

from lms.certificates.codes import CodeError, ParsedCode, parse_code
from lms.certificates.eligibility import Eligibility, check_eligibility
from lms.certificates.history import DEFAULT_TEMPLATE, MAX_REASON_LENGTH, TEMPLATES
from lms.certificates.issuing import issue_certificate, issue_if_eligible, on_progress_changed
from lms.certificates.lookup import (
    active_certificate,
    certificate_with_history,
    certificates_of,
    count_suspended,
    find_certificate,
    find_track,
    list_certificates,
    live_tracks,
    verification_url,
)
from lms.certificates.pdf import certificate_pdf
from lms.certificates.recertification import (
    FreshEvidence,
    RenewalNeeds,
    decide_recertification_exam,
    fresh_evidence,
    renewal_needs,
)
from lms.certificates.reissuing import reissue_certificate
from lms.certificates.renewal import renew_certificate
from lms.certificates.revoking import revoke_certificate
from lms.certificates.suspension import restore_certificate, review_certificates
from lms.certificates.validity import RENEWAL_WINDOW, add_months, expiry_for, in_renewal_window
from lms.certificates.verification import (
    MAX_BULK_CODES,
    Stamp,
    Verification,
    count_verifications,
    split_codes,
    stamp_code,
    verify_code,
    verify_many,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "MAX_BULK_CODES",
    "MAX_REASON_LENGTH",
    "RENEWAL_WINDOW",
    "TEMPLATES",
    "CodeError",
    "Eligibility",
    "FreshEvidence",
    "ParsedCode",
    "RenewalNeeds",
    "Stamp",
    "Verification",
    "active_certificate",
    "add_months",
    "certificate_pdf",
    "certificate_with_history",
    "certificates_of",
    "check_eligibility",
    "count_suspended",
    "count_verifications",
    "decide_recertification_exam",
    "expiry_for",
    "find_certificate",
    "find_track",
    "fresh_evidence",
    "in_renewal_window",
    "issue_certificate",
    "issue_if_eligible",
    "list_certificates",
    "live_tracks",
    "on_progress_changed",
    "parse_code",
    "reissue_certificate",
    "renew_certificate",
    "renewal_needs",
    "restore_certificate",
    "review_certificates",
    "revoke_certificate",
    "split_codes",
    "stamp_code",
    "verification_url",
    "verify_code",
    "verify_many",
]
