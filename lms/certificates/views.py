"""The certificates blueprint `bp`, whose pages live in one module per audience, imported at the end:

- public_views.py: verification by anyone, people and machines (the page, the form, bulk lookups, Open Badges);
- holder_views.py: the signed-in holder's certificates, the PDF, sharing, renewal;
- staff_views.py: the staff list, issuing by hand, reissuing and revoking.
"""

from __future__ import annotations

from flask import Blueprint, abort

from lms.certificates import operations
from lms.certificates.codes import CodeError, parse_code
from lms.certificates.models import Certificate

bp = Blueprint("certificates", __name__)


def certificate_or_404(code: str) -> Certificate:
    """The certificate with this code, as typed in a URL (any spacing or case); 404 when none has it."""
    try:
        parsed = parse_code(code)
    except CodeError:
        abort(404)
    certificate = operations.find_certificate(parsed.canonical)
    if certificate is None:
        abort(404)
    return certificate


# Imported last: each module needs `bp` (and the helper above) defined.
from lms.certificates import holder_views, public_views, staff_views  # noqa: E402

__all__ = ["bp", "certificate_or_404", "holder_views", "public_views", "staff_views"]
