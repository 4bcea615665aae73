"""The landing page, the dashboard shell and the health check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user

from lms.accounts.access import acting_user, login_required, public
from lms.accounts.kept_pages import kept_page
from lms.dashboard import panels_for
from lms.extensions import db

bp = Blueprint("pages", __name__)


@bp.route("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("pages.dashboard"))
    return render_template("pages/index.html")


@bp.route("/dashboard")
@login_required
@kept_page(size=2000)  # a student's dashboard is 5-30 KB
def dashboard() -> Any:
    return render_template("pages/dashboard.html", panels=panels_for(acting_user()))


@bp.route("/healthz")
@public
def healthz() -> Any:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
