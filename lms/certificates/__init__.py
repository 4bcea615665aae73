"""Certificates: eligibility, issuing, PDF, public verification, revocation, Open Badges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from lms.accounts.models import Role, User


def _dashboard_panel(user: User) -> dict[str, Any] | None:
    from lms.certificates import operations
    from lms.certificates.validity import RENEWAL_WINDOW
    from lms.clock import holds_until, next_moment, now_utc

    certificates = operations.certificates_of(user)
    if not certificates and user.is_staff:
        return None
    at = now_utc()
    # What the panel shows changes with the time when a certificate enters its renewal window, and when it expires.
    moments = [
        m for c in certificates if (e := c.current.expires_at) is not None for m in (e - RENEWAL_WINDOW, e)
    ]
    holds_until(next_moment(moments, at))
    return {
        "certificates": certificates,
        "now": at,
        "renewal_due": [c for c in certificates if operations.in_renewal_window(c, at)],
    }


VERIFY_PAGES_KEPT = 1000  # per process; a page is a few KB (its QR code included)


def register(app: Flask) -> None:
    """Add this feature's blueprint, dashboard panel, menu entries, commands and event handler to the app."""
    from lms import events
    from lms.certificates import operations, pdf, suspension
    from lms.certificates.cli import issue_certificate_command, revoke_certificate_command
    from lms.certificates.credential_views import install_credentials  # adds the credential routes to bp
    from lms.certificates.tally import install_tally
    from lms.certificates.views import bp
    from lms.cli import lms_cli
    from lms.dashboard import Panel, register_panel
    from lms.jobs import register_handler, register_periodic
    from lms.navigation import NavItem, add_nav_item
    from lms.page_cache import install_page_cache
    from lms.quizzes import operations as quiz_operations

    app.register_blueprint(bp)
    install_credentials(app)
    install_tally(app)
    install_page_cache(app, "verify", VERIFY_PAGES_KEPT)
    register_panel(Panel("certificates", "certificates/_panel.html", _dashboard_panel, order=40))
    add_nav_item(NavItem("My certificates", "certificates.mine", frozenset({Role.STUDENT})))
    add_nav_item(NavItem("Certificates", "certificates.staff_list", frozenset({Role.INSTRUCTOR, Role.ADMIN})))
    add_nav_item(NavItem("Verify a certificate", "certificates.verify_form", None))
    lms_cli.add_command(issue_certificate_command)
    lms_cli.add_command(revoke_certificate_command)
    events.subscribe(events.ProgressChanged, operations.on_progress_changed)
    # After issuing: a certificate whose basis was withdrawn is suspended, and restored when it holds again.
    events.subscribe(events.ProgressChanged, suspension.on_progress_changed)
    events.subscribe(events.GradeReleased, suspension.on_grade_released)
    # The recertification exam opens to a holder inside the renewal window (the rule lives here, not in quizzes).
    quiz_operations.open_kind_with("recertification", operations.decide_recertification_exam)
    events.subscribe(events.RegradeAnswered, suspension.on_regrade_answered)
    # The PDF of each new version is rendered by a job enqueued with it; a periodic job catches up on any missed.
    register_handler(pdf.RENDER_JOB, pdf.render_and_store)
    register_periodic("certificates.missing_pdfs", timedelta(minutes=10), pdf.render_missing_pdfs)
    events.subscribe(events.CertificateIssued, pdf.enqueue_pdf)
    events.subscribe(events.CertificateReissued, pdf.enqueue_pdf)
