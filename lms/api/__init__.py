"""The REST API (/api/v1): bearer tokens with scopes, created by admins at /admin/api-tokens; users, cohorts and
enrolments, results and certificates; an OpenAPI 3.1 document generated from the code (flask-smorest)."""

from __future__ import annotations

from flask import Flask

from lms.accounts.models import Role


def register(app: Flask) -> None:
    """The API's blueprints (documented through flask-smorest), its docs, the admin token pages and menu entry."""
    from lms.api import certificate_views, course_views, doc_views, result_views, token_views, user_views
    from lms.api.views import install
    from lms.navigation import NavItem, add_nav_item

    install(app, [user_views.bp, course_views.bp, result_views.bp, certificate_views.bp])
    app.register_blueprint(doc_views.bp)
    app.register_blueprint(token_views.bp)
    add_nav_item(NavItem("API tokens", "api_tokens.index", frozenset({Role.ADMIN})))
