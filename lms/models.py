"""Every model, imported in one place so Alembic and create_all see the whole schema."""

from lms import stamps
from lms.accounts.models import User, UserSession
from lms.api.models import ApiRequest, ApiToken
from lms.assignments import marking_models
from lms.assignments import models as assignments_models
from lms.audit import AuditEvent
from lms.certificates import credential_models
from lms.certificates import models as certificates_models
from lms.courses.models import Enrollment, Lesson, LessonCompletion, Module, Track
from lms.extensions import db
from lms.jobs import Job
from lms.notifications import models as notifications_models
from lms.quizzes import models as quizzes_models
from lms.roster.models import StagedRoster
from lms.sso.models import SsoIdentity
from lms.webhooks import models as webhooks_models

__all__ = [
    "ApiRequest",
    "ApiToken",
    "AuditEvent",
    "Enrollment",
    "Job",
    "Lesson",
    "LessonCompletion",
    "Module",
    "SsoIdentity",
    "StagedRoster",
    "Track",
    "User",
    "UserSession",
    "assignments_models",
    "certificates_models",
    "credential_models",
    "marking_models",
    "notifications_models",
    "quizzes_models",
    "webhooks_models",
]

# Every table but the busiest raises its stamp in each transaction that changes it (lms.stamps): kept pages
# (lms.accounts.kept_pages) are served only while the stamps of the tables they read are unchanged.
stamps.listen(db.metadata)
