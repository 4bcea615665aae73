"""The main navigation: each entry names who sees it, so the menu shows only what the role may use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    """A menu entry and who sees it, by role name: features pass lms.accounts.models.Role members (a StrEnum, so
    each is its name), and the menu needs no import of accounts to compare them."""

    label: str
    endpoint: str
    roles: frozenset[str] | None  # None: everyone, signed in or not


class _EveryRole(frozenset[str]):
    """Holds every role name there is: anyone signed in, whichever roles accounts defines."""

    def __contains__(self, role: object) -> bool:
        return isinstance(role, str)


ALL_SIGNED_IN: frozenset[str] = _EveryRole()
NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "pages.dashboard", ALL_SIGNED_IN),
    NavItem("Users", "accounts.admin_users", frozenset({"admin"})),  # Role.ADMIN
]


def add_nav_item(item: NavItem, position: int | None = None) -> None:
    if any(existing.endpoint == item.endpoint for existing in NAV_ITEMS):
        return
    NAV_ITEMS.insert(len(NAV_ITEMS) if position is None else position, item)


def install_navigation(app: Flask) -> None:
    # The menu of each role on each page, built once per process: it changes only with the app's routes.
    menus: dict[tuple[str, str | None, str | None], tuple[dict[str, object], ...]] = {}

    @app.context_processor
    def navigation() -> dict[str, object]:
        def main_navigation() -> tuple[dict[str, object], ...]:
            role = str(current_user.role) if current_user.is_authenticated else None
            key = (request.script_root, role, request.endpoint)
            menu = menus.get(key)
            if menu is None:
                menu = menus[key] = _menu(app, role)
            return menu

        return {"main_navigation": main_navigation}


def _menu(app: Flask, role: str | None) -> tuple[dict[str, object], ...]:
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
