"""Every model, imported in one place so Alembic and create_all see the whole schema."""

from lms.accounts.models import User
from lms.audit import AuditEvent

__all__ = ["AuditEvent", "User"]
