"""In-process events between features, so a feature can react to another without importing it.

Courses, quizzes and assignments emit `progress_changed` when a student's standing in a track may have changed
(a lesson completed, a quiz passed, a handbook graded); certificates listens and issues when the rule is met.
Handlers run synchronously, inside the emitter's transaction, after the emitter's own change is flushed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

PROGRESS_CHANGED = "progress_changed"  # kwargs: user_id: int, track_id: int

_handlers: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., Any]) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **kwargs: Any) -> None:
    for handler in list(_handlers[event]):
        handler(**kwargs)
