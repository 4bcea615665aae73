"""Every model, imported in one place so Alembic and create_all see the whole schema."""

from lms.accounts.models import User, UserSession
from lms.assignments import models as assignments_models
from lms.audit import AuditEvent
from lms.certificates import credential_models
from lms.certificates import models as certificates_models
from lms.courses.models import Enrollment, Lesson, LessonCompletion, Module, Track
from lms.quizzes import models as quizzes_models

__all__ = [
    "AuditEvent",
    "Enrollment",
    "Lesson",
    "LessonCompletion",
    "Module",
    "Track",
    "User",
    "UserSession",
    "assignments_models",
    "certificates_models",
    "credential_models",
    "quizzes_models",
]
