"""The handbook assignment: uploads, storage, rubric grading, feedback and regrades."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this feature's blueprint, dashboard panel and commands to the app."""
