"""The dashboard is made of panels that features contribute (tracks, quizzes, handbook, certificates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: plumbing never imports a feature
    from lms.accounts.models import User


@dataclass(frozen=True)
class Panel:
    name: str
    template: str  # rendered with the context the provider returns
    provide: Callable[[User], dict[str, Any] | None]  # None: nothing to show for this user
    order: int = 100


PANELS: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if all(existing.name != panel.name for existing in PANELS):
        PANELS.append(panel)
        PANELS.sort(key=lambda p: p.order)


def panels_for(user: User) -> list[tuple[str, SimpleNamespace]]:
    """The panels to show this user, each with its context as attributes (`panel.items` is the panel's own
    `items`, never dict.items, whichever way a template spells it)."""
    shown = []
    for panel in PANELS:
        context = panel.provide(user)
        if context is not None:
            shown.append((panel.template, SimpleNamespace(**context)))
    return shown
