"""Grades follow the rubric they were given against: it is stored with the grade, a grade that misses a criterion
added since is not released (the page says which, a raw POST is refused too), and the student's breakdown keeps
the points the grade was given with after the rubric changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from lms import clock
from lms.assignments import operations
from lms.assignments.models import Criterion, CriterionLevel, Submission
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.files import rows, samples

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(app, student, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track, T0)
    submission = rows.hand_in(student, assignment, samples.pdf(), "handbook.pdf")
    return SimpleNamespace(
        track=track, assignment=assignment, student=student, instructor=instructor, submission=submission
    )


def reload(submission: Submission) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission.id)


def add_criterion(assignment, title: str = "Budget and resources") -> Criterion:
    """What a sync of an edited track.toml does when a criterion is added (the assignment's version goes up)."""
    criterion = Criterion(slug="budget", title=title, position=len(assignment.criteria))
    for position, (name, points) in enumerate(rows.LEVELS):
        criterion.levels.append(
            CriterionLevel(position=position, name=name, points=points, descriptor=f"{name} budget.")
        )
    assignment.criteria.append(criterion)
    assignment.version += 1
    db.session.commit()
    return criterion


def test_each_save_stores_the_rubric_it_was_given_against(course):
    grade = rows.grade(course.instructor, course.submission, level="sound")
    stored = grade.rubric
    assert stored["assignment_version"] == 1
    assert [c["title"] for c in stored["criteria"]] == [
        "Goal and purpose",
        "Market research",
        "SWOT analysis",
    ]
    assert stored["criteria"][0]["levels"] == [
        {"name": "missing", "points": 0},
        {"name": "weak", "points": 1},
        {"name": "sound", "points": 2},
        {"name": "excellent", "points": 3},
    ]
    assert all(c["max_points"] == 3 for c in stored["criteria"])


def test_a_grade_missing_a_new_criterion_is_not_released_and_the_page_names_it(client, login, course):
    rows.grade(course.instructor, course.submission, level="sound")  # complete: 6 of 9, pass
    add_criterion(course.assignment)
    url = f"/grading/submissions/{course.submission.id}"
    login(client, course.instructor)

    page = client.get(url).get_data(as_text=True)
    warning = re.search(
        r'<p class="flash flash-warning" role="alert" data-rubric-drift>(.*?)</p>', page, re.S
    )
    assert warning is not None and "new criterion since this grade was saved: “Budget and resources”" in (
        warning.group(1)
    )

    response = client.post(url + "/release")  # the page's button, or the same request sent by hand
    assert response.status_code == 302
    assert "“Budget and resources”" in client.get(response.location).get_data(as_text=True)
    submission = reload(course.submission)
    assert (submission.state, submission.grade.released_at, submission.grade.release_count) == (
        "graded",
        None,
        0,
    )
    with pytest.raises(DomainError, match="Budget and resources"):
        operations.release_grade(course.instructor, submission, clock.now_utc())
    db.session.rollback()

    # Graded against the rubric as it is now, the grade is released with the new criterion counted.
    rows.grade(course.instructor, reload(course.submission), level="sound", release=True)
    submission = reload(course.submission)
    assert (submission.state, submission.grade.points, submission.grade.max_points) == ("released", 8, 12)
    assert len(submission.grade.rubric["criteria"]) == 4


def test_a_grade_for_a_criterion_since_removed_is_not_released(course):
    rows.grade(course.instructor, course.submission, level="sound")
    course.assignment.active_criteria[2].retired_at = clock.now_utc()
    db.session.commit()
    with pytest.raises(DomainError, match="“SWOT analysis” is no longer in the rubric"):
        operations.release_grade(course.instructor, reload(course.submission), clock.now_utc())
    db.session.rollback()


def test_the_student_reads_the_points_the_grade_was_given_with_after_the_rubric_changes(
    client, login, course
):
    rows.grade(course.instructor, course.submission, level="sound", release=True)  # 6 of 9
    first = course.assignment.active_criteria[0]
    first.level("excellent").points = 10  # the rubric now says 10 for this criterion's top level
    course.assignment.version += 1
    db.session.commit()

    login(client, course.student)
    page = client.get(f"/assignments/submissions/{course.submission.id}").get_data(as_text=True)
    assert "6 of 9 points (66.7%)" in page
    maxima = re.findall(r"<td>(\d+) / (\d+)</td>", page)
    assert maxima == [("2", "3"), ("2", "3"), ("2", "3")]
    assert "/ 10" not in page


def test_a_level_change_before_release_is_pointed_out_and_the_saved_points_are_kept(client, login, course):
    rows.grade(course.instructor, course.submission, level="sound")
    course.assignment.active_criteria[0].level("sound").points = 2  # unchanged: no note
    db.session.commit()
    login(client, course.instructor)
    url = f"/grading/submissions/{course.submission.id}"
    assert "data-rubric-changed" not in client.get(url).get_data(as_text=True)

    course.assignment.active_criteria[0].level("excellent").points = 5
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "data-rubric-changed" in page and "The levels or points of Goal and purpose changed" in page
    assert client.post(url + "/release").status_code == 302
    grade = reload(course.submission).grade
    assert (grade.released_at, grade.points, grade.max_points) == (T0, 6, 9)


def test_a_grade_saved_before_rubrics_were_stored_reads_as_before(client, login, course):
    grade = rows.grade(course.instructor, course.submission, level="excellent", release=True)
    grade.rubric = None  # as every grade saved before this change
    db.session.commit()
    login(client, course.student)
    page = client.get(f"/assignments/submissions/{course.submission.id}").get_data(as_text=True)
    assert "9 of 9 points (100.0%)" in page
    assert re.findall(r"<td>(\d+) / (\d+)</td>", page) == [("3", "3")] * 3
    assert operations.rubric_drift(reload(course.submission).grade, course.assignment).blocks_release is False
