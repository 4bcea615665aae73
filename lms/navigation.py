"""The main navigation: each entry names who sees it, so the menu shows only what the role may use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from lms.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[Role] | None  # None: everyone, signed in or not


ALL_SIGNED_IN = frozenset(Role)
NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "pages.dashboard", ALL_SIGNED_IN),
    NavItem("Users", "accounts.admin_users", frozenset({Role.ADMIN})),
]


def add_nav_item(item: NavItem, position: int | None = None) -> None:
    if any(existing.endpoint == item.endpoint for existing in NAV_ITEMS):
        return
    NAV_ITEMS.insert(len(NAV_ITEMS) if position is None else position, item)


def install_navigation(app: Flask) -> None:
    # The menu of each role on each page, built once per process: it changes only with the app's routes.
    menus: dict[tuple[str, Role | None, str | None], tuple[dict[str, object], ...]] = {}

    @app.context_processor
    def navigation() -> dict[str, object]:
        def main_navigation() -> tuple[dict[str, object], ...]:
            role = current_user.role_enum if current_user.is_authenticated else None
            key = (request.script_root, role, request.endpoint)
            menu = menus.get(key)
            if menu is None:
                menu = menus[key] = _menu(app, role)
            return menu

        return {"main_navigation": main_navigation}


def _menu(app: Flask, role: Role | None) -> tuple[dict[str, object], ...]:
    items = []
    for item in NAV_ITEMS:
        if item.endpoint not in app.view_functions:
            continue
        if item.roles is not None and (role is None or role not in item.roles):
            continue
        items.append(
            {"label": item.label, "url": url_for(item.endpoint), "active": request.endpoint == item.endpoint}
        )
    return tuple(items)
