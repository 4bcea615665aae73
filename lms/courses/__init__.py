"""Tracks, modules and lessons from courses/, enrolment and progress."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel and commands to the app."""
