"""The application factory: config, extensions, blueprints, CLI and error handlers; nothing else."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Feature packages, each with a `register(app)` adding its blueprint, content loader, panels and commands.
FEATURES = (
    "courses",
    "quizzes",
    "assignments",
    "certificates",
    "gradebook",
    "notifications",
    "webhooks",
    "sso",
    "roster",
    "api",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = os.environ.get("LMS_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )

    from lms.config import load_config

    app.config.update(load_config(Path(app.instance_path)))
    app.config.setdefault("COURSES_DIR", "")
    if config:
        app.config.update(config)
    app.config["COURSES_DIR"] = app.config["COURSES_DIR"] or str(PROJECT_ROOT / "courses")
    app.config["QUIZZES_DIR"] = app.config["QUIZZES_DIR"] or str(PROJECT_ROOT / "quizzes")

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _init_extensions(app)
    from lms.ids import install_id_converter

    install_id_converter(app)
    from lms import timezones

    timezones.init_app(app)
    _register_blueprints(app)

    from lms.events import install_session_hooks

    install_session_hooks()

    from lms.errors import register_error_handlers
    from lms.navigation import install_navigation
    from lms.web import install_request_hooks

    register_error_handlers(app)
    install_request_hooks(app)
    install_navigation(app)

    from lms.jobs import install_job_runner

    install_job_runner(app)

    import lms.models  # noqa: F401  (every table, for the kept pages' notes of what they read)
    from lms.accounts.kept_pages import install_kept_pages
    from lms.extensions import db

    install_kept_pages(app, db.metadata.tables)

    from lms.accounts.cli import register_commands as register_account_commands
    from lms.cli import lms_cli

    register_account_commands()
    app.cli.add_command(lms_cli)

    from lms.accounts.access import undeclared_views

    missing = undeclared_views(app)
    if missing:
        raise RuntimeError(f"these views do not declare who may use them: {', '.join(missing)}")
    _refuse_known_credentials(app)
    return app


def _refuse_known_credentials(app: Flask) -> None:
    """A production site does not serve while a demo account still signs in with its published password. The
    `flask` commands (FLASK_RUN_FROM_CLI) still start, so that an operator can fix it (or run the migrations);
    a database that cannot be read yet (no tables, unreachable) is logged and left to the health check."""
    from lms.config import PRODUCTION

    if app.config.get("ENV_NAME") != PRODUCTION or os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        return
    import sqlalchemy as sa

    from lms.accounts.demo import accounts_with_demo_passwords
    from lms.database import dispose_engines
    from lms.extensions import db

    with app.app_context():
        try:
            found = accounts_with_demo_passwords()
        except sa.exc.SQLAlchemyError:
            app.logger.warning("could not check the demo accounts at start-up", exc_info=True)
            found = []
        finally:
            db.session.remove()
            dispose_engines(db.engine)  # no connection opened here is inherited by a forked worker
    if found:
        raise RuntimeError(
            f"refusing to start with LMS_ENV=production: {', '.join(found)} still sign(s) in with the published "
            "demo password. Change it first: `flask --app wsgi lms set-password --email EMAIL`."
        )


def _init_extensions(app: Flask) -> None:
    from lms.accounts.operations import load_user_from_session
    from lms.database import compared_with_models, install_statement_engine
    from lms.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        install_statement_engine(app, db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_object=compared_with_models,
    )
    csrf.init_app(app)

    @app.before_request
    def _rate_limits_of_this_app() -> None:
        # Flask-Limiter keeps its on/off switch on the one extension object, set by the app built last. A
        # production process serves one app; the tests build many, and each request must follow its own app.
        limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])

    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user_from_session)

    import lms.models  # noqa: F401  (every model registered before migrations or create_all look)


def _register_blueprints(app: Flask) -> None:
    from lms.accounts.views import bp as accounts_bp
    from lms.pages.views import bp as pages_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(accounts_bp)
    for name in FEATURES:
        module = importlib.import_module(f"lms.{name}")
        module.register(app)
