"""Domain events: typed records, handlers inside the transaction, and after-commit handlers that a rollback cancels."""

from __future__ import annotations

import dataclasses

import pytest

from lms import events
from lms.audit import AuditEvent, record_event
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("app")


def test_an_event_is_an_immutable_record_with_named_fields():
    event = events.ProgressChanged(user_id=1, track_id=2)
    assert (
        event
        == events.ProgressChanged(user_id=1, track_id=2)
        != events.ProgressChanged(user_id=1, track_id=3)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.user_id = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        events.ProgressChanged(1, 2)  # type: ignore[misc]


def test_emit_refuses_anything_but_an_event_record():
    with pytest.raises(TypeError, match="Event record"):
        events.emit("progress_changed")  # type: ignore[arg-type]


def test_in_transaction_handlers_hear_only_their_type_in_order_and_once_each():
    heard: list[str] = []

    def first(event: events.ProgressChanged) -> None:
        heard.append(f"first {event.user_id}")

    def second(event: events.ProgressChanged) -> None:
        heard.append(f"second {event.user_id}")

    with events.subscribed(events.ProgressChanged, first), events.subscribed(events.ProgressChanged, second):
        events.subscribe(
            events.ProgressChanged, first
        )  # a second subscription of the same handler is ignored
        events.emit(events.ProgressChanged(user_id=7, track_id=1))
        events.emit(events.Enrolled(user_id=8, track_id=1))
    events.emit(events.ProgressChanged(user_id=9, track_id=1))  # unsubscribed on leaving the block
    assert heard == ["first 7", "second 7"]


def test_an_in_transaction_handler_writes_with_the_emitter_and_rolls_back_with_it(app):
    def write_audit(event: events.Enrolled) -> None:
        record_event(None, "heard.enrolled", "user", event.user_id)

    with events.subscribed(events.Enrolled, write_audit):
        events.emit(events.Enrolled(user_id=1, track_id=1))
        db.session.rollback()
        events.emit(events.Enrolled(user_id=2, track_id=1))
        db.session.commit()
    stored = db.session.scalars(
        db.select(AuditEvent.subject_id).where(AuditEvent.action == "heard.enrolled")
    ).all()
    assert stored == ["2"]


def test_after_commit_handlers_run_after_the_commit_and_never_after_a_rollback():
    heard: list[int] = []
    with events.subscribed(events.Enrolled, lambda e: heard.append(e.user_id), events.Phase.AFTER_COMMIT):
        events.emit(events.Enrolled(user_id=1, track_id=1))
        assert heard == []  # not before the commit
        db.session.rollback()
        db.session.commit()
        assert heard == []  # the rollback cancelled it
        events.emit(events.Enrolled(user_id=2, track_id=1))
        events.emit(events.Enrolled(user_id=3, track_id=1))
        db.session.commit()
        assert heard == [2, 3]
        db.session.commit()
        assert heard == [2, 3]  # each runs once


def test_a_failing_after_commit_handler_is_logged_and_the_others_still_run(caplog):
    heard: list[int] = []

    def broken(event: events.Enrolled) -> None:
        raise RuntimeError("smtp down")

    with (
        events.subscribed(events.Enrolled, broken, events.Phase.AFTER_COMMIT),
        events.subscribed(events.Enrolled, lambda e: heard.append(e.user_id), events.Phase.AFTER_COMMIT),
    ):
        events.emit(events.Enrolled(user_id=4, track_id=1))
        db.session.commit()
    assert heard == [4]
    assert "smtp down" in caplog.text
