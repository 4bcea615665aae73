"""Access rules for certificates: public verification, the holder's pages and the staff actions."""

from lms.certificates import operations
from tests.access_rules import LOGIN, REDIRECT, Rule, everyone, signed_in, staff_only
from tests.fixtures.courses.samples import make_track


def prepare(s):
    track = make_track(slug="access-certified")
    track.completion = {"modules": "all", "quizzes": [], "assignment": "handbook"}
    s.certificate_track = track
    s.certificate = operations.issue_certificate(s.student, track, s.admin, "Access walk")
    s.code = s.certificate.display_code


HOLDER = {"anonymous": LOGIN, "student": 200, "instructor": 200, "admin": 200}

RULES = [
    Rule("certificates.verify_form", "GET", lambda s: "/verify", everyone(200)),
    Rule("certificates.verify", "GET", lambda s: f"/verify/{s.code}", everyone(200)),
    Rule("certificates.verify_json", "GET", lambda s: f"/verify/{s.code}.json", everyone(200)),
    Rule("certificates.verify_bulk", "GET", lambda s: "/verify/bulk", everyone(200)),
    Rule(
        "certificates.verify_bulk",
        "POST",
        lambda s: "/verify/bulk",
        everyone(200),
        data=lambda s: {"codes": s.code},
    ),
    Rule("certificates.openbadges_issuer", "GET", lambda s: "/openbadges/issuer", everyone(200)),
    Rule(
        "certificates.openbadges_badge_class",
        "GET",
        lambda s: "/openbadges/badges/access-certified",
        everyone(200),
    ),
    Rule("certificates.mine", "GET", lambda s: "/certificates", signed_in(200)),
    # The holder (the sample student) and staff; any other student gets 404 (tested in test_certificate_pages).
    Rule("certificates.holder", "GET", lambda s: f"/certificates/{s.code}", HOLDER),
    # 202: the PDF's job has not run in the walk, so the page says it is being prepared (never rendered on GET).
    Rule(
        "certificates.download_pdf",
        "GET",
        lambda s: f"/certificates/{s.code}/certificate.pdf",
        {"anonymous": LOGIN, "student": 202, "instructor": 202, "admin": 202},
    ),
    Rule("certificates.renew", "POST", lambda s: f"/certificates/{s.code}/renew", signed_in(REDIRECT)),
    Rule("certificates.staff_list", "GET", lambda s: "/staff/certificates", staff_only(200)),
    Rule("certificates.staff_issue", "GET", lambda s: "/staff/certificates/issue", staff_only(200)),
    Rule(
        "certificates.staff_issue",
        "POST",
        lambda s: "/staff/certificates/issue",
        staff_only(422),
        data=lambda s: {"email": "bad"},
    ),
    Rule("certificates.staff_detail", "GET", lambda s: f"/staff/certificates/{s.code}", staff_only(200)),
    Rule(
        "certificates.staff_revoke",
        "POST",
        lambda s: f"/staff/certificates/{s.code}/revoke",
        staff_only(422),
        data=lambda s: {"reason": ""},
    ),
    Rule(
        "certificates.staff_restore",
        "POST",
        lambda s: f"/staff/certificates/{s.code}/restore",
        staff_only(422),
        data=lambda s: {"reason": ""},
    ),
    Rule(
        "certificates.staff_reissue",
        "POST",
        lambda s: f"/staff/certificates/{s.code}/reissue",
        staff_only(422),
        data=lambda s: {"holder_name": "", "reason": ""},
    ),
]
