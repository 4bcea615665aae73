"""Extensions created unbound here and bound to the app in create_app(): no module imports an app."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from lms.database import Base
from lms.web import CsrfProtection


def client_address() -> str:
    """The address rate limits count against (ProxyFix, when configured, has already put the client's here)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CsrfProtection()
limiter = Limiter(key_func=client_address)
