"""Reissuing a certificate: a new version under the same code (a name correction, a template change)."""

from __future__ import annotations

from lms.accounts.models import User
from lms.certificates.history import TEMPLATES, add_next_version, clean_name, clean_reason, commit_new_version
from lms.certificates.models import Certificate, CertificateVersion, EventAction
from lms.clock import now_utc
from lms.errors import DomainError


def reissue_certificate(
    certificate: Certificate,
    actor: User,
    reason: str,
    holder_name: str | None = None,
    template: str | None = None,
) -> CertificateVersion:
    """A new version under the same code (a name correction, a template change); dates stay as issued.

    Emits CertificateReissued (the new version's number, the reason) inside the transaction; nothing when refused.
    """
    reason = clean_reason(reason, required=True, what="reissuing")
    if certificate.is_revoked:
        raise DomainError("A revoked certificate cannot be reissued. Issue a new one instead.")
    template = template or certificate.current.template
    if template not in TEMPLATES:
        raise DomainError("Choose one of the listed templates.", field="template")
    name = clean_name(holder_name if holder_name is not None else certificate.user.full_name)
    current = certificate.current
    if name == current.holder_name and template == current.template:
        raise DomainError("Nothing would change: give a different name or template.", field="holder_name")
    at = now_utc()
    version = add_next_version(
        certificate,
        actor,
        reason,
        at,
        EventAction.REISSUED,
        holder_name=name,
        template=template,
        issued_at=current.issued_at,
        expires_at=current.expires_at,
        changes={"holder_name": [current.holder_name, name], "template": [current.template, template]},
    )
    return commit_new_version(certificate, version, actor, reason)
