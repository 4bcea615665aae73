"""Certificates: eligibility, issuing, PDF, public verification, revocation, Open Badges."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this feature's blueprint, dashboard panel and commands to the app."""
