"""Exam blueprints: stratified draws, fresh items on a retake, retired items, banks and recertification exams, the
blueprint checks of check-content, and the staff page that lists each exam's blueprint."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from lms.quizzes import operations
from lms.quizzes.blueprint import Stratum, check_blueprint, plan_draw, pool_sizes, seen_counts
from lms.quizzes.models import QuizVersion
from tests.test_quiz_support import (
    add_lessons,
    check_files,
    complete_lessons,
    enrol,
    load_quizzes,
    make_track,
    quiz_by_slug,
    quiz_toml,
    track_spec,
)

MODULES = ("basics", "advanced")


def item(qid: str, module: str | None = None, **extra: str) -> str:
    """A single-choice item whose options are all the same length (no item-writing cue)."""
    lines = [
        "[[questions]]",
        f'id = "{qid}"',
        'type = "single"',
        f'prompt = "Which option is right for {qid}?"',
    ]
    if module:
        lines.append(f'module = "{module}"')
    lines += [f"{key} = {value}" for key, value in extra.items()]
    for n, correct in enumerate((True, False, False, False)):
        lines += [
            "[[questions.choices]]",
            f'text = "Option {n} of {qid}"',
            f"correct = {'true' if correct else 'false'}",
        ]
    return "\n".join(lines) + "\n"


def final_toml(per_module: dict[str, int], blueprint: dict[str, int] | None, draw: int, **extra: str) -> str:
    head = [
        'title = "Final"', 'track = "test-track"', 'kind = "final"', "time_limit_minutes = 30",
        "attempts_allowed = 0", "pass_percent = 60", f"draw = {draw}",
    ]  # fmt: skip
    head += [f"{key} = {value}" for key, value in extra.items()]
    if blueprint is not None:
        head.append("[blueprint]")
        head += [f"{module} = {count}" for module, count in blueprint.items()]
    items = [item(f"{m}-{i}", m) for m, n in per_module.items() for i in range(n)]
    return "\n".join(head) + "\n" + "\n".join(items)


def pool_of(per_module: dict[str, int]) -> list[dict]:
    return [
        {"id": f"{m}-{i}", "type": "single", "module": m} for m, n in per_module.items() for i in range(n)
    ]


# -- the draw (pure) -------------------------------------------------------------------------------------------


def test_every_draw_holds_the_blueprint_exactly_over_many_draws():
    pool = pool_of({"basics": 12, "advanced": 30, "untagged": 5})
    strata = [Stratum(3, "basics"), Stratum(7, "advanced")]
    seen_items = Counter()
    for seed in range(300):
        drawn = plan_draw(pool, strata, 10, rng=random.Random(seed))
        assert Counter(q["module"] for q in drawn) == {"basics": 3, "advanced": 7}
        seen_items.update(q["id"] for q in drawn)
    # Random within each stratum: every item of each domain turns up, none of the untagged ones.
    assert {i for i in seen_items if i.startswith("basics")} == {f"basics-{i}" for i in range(12)}
    assert len([i for i in seen_items if i.startswith("advanced")]) == 30
    assert not any(i.startswith("untagged") for i in seen_items)


def test_type_and_difficulty_strata_are_drawn_before_the_broad_ones():
    pool = [{"id": f"h{i}", "type": "single", "module": "basics", "difficulty": "hard"} for i in range(4)]
    pool += [
        {"id": f"e{i}", "type": "true_false", "module": "basics", "difficulty": "easy"} for i in range(4)
    ]
    strata = [Stratum(3, "basics"), Stratum(2, "basics", difficulty="hard"), Stratum(1, type="true_false")]
    for seed in range(100):
        drawn = plan_draw(pool, strata, 6, rng=random.Random(seed))
        assert len(drawn) == 6
        assert sum(q["difficulty"] == "hard" for q in drawn) >= 2
        assert sum(q["type"] == "true_false" for q in drawn) >= 1
    # A stratum's pool leaves out what a narrower one draws from.
    sizes = pool_sizes(strata, pool)
    assert sizes[Stratum(2, "basics", difficulty="hard")] == 4
    assert sizes[Stratum(1, type="true_false")] == 4
    assert sizes[Stratum(3, "basics")] == 4  # the hard ones are the narrower stratum's


def test_a_retake_from_a_pool_four_times_the_draw_shares_at_most_a_quarter():
    pool = pool_of({"basics": 20, "advanced": 60})  # 4x the draw per stratum
    strata = [Stratum(5, "basics"), Stratum(15, "advanced")]
    for seed in range(200):
        rng = random.Random(seed)
        first = plan_draw(pool, strata, 20, rng=rng)
        second = plan_draw(
            pool, strata, 20, seen=seen_counts([[{"question": q["id"]} for q in first]]), rng=rng
        )
        overlap = {q["id"] for q in first} & {q["id"] for q in second}
        assert (
            len(overlap) <= 0.25 * 20
        )  # the bar; with 3x fresh items per stratum there is none at all
        assert not overlap
        assert Counter(q["module"] for q in second) == {"basics": 5, "advanced": 15}


def test_when_the_pool_runs_out_of_fresh_items_the_least_seen_come_first():
    pool = pool_of({"basics": 6})
    seen = {"basics-0": 2, "basics-1": 2, "basics-2": 1, "basics-3": 1}
    for seed in range(50):
        drawn = {
            q["id"] for q in plan_draw(pool, [Stratum(4, "basics")], 4, seen=seen, rng=random.Random(seed))
        }
        assert {"basics-4", "basics-5", "basics-2", "basics-3"} == drawn


def test_without_a_blueprint_the_draw_still_prefers_unseen_items_and_never_retired_ones():
    pool = [*pool_of({"basics": 8}), {"id": "old", "type": "single", "retired": True}]
    for seed in range(50):
        first = plan_draw(pool, [], 4, rng=random.Random(seed))
        second = plan_draw(pool, [], 4, seen=seen_counts([[{"question": q["id"]} for q in first]]),
                           rng=random.Random(seed + 1))  # fmt: skip
        assert not {q["id"] for q in first} & {q["id"] for q in second}
        assert "old" not in {q["id"] for q in first + second}


def test_check_blueprint_sum_and_pool_rules():
    pool = pool_of({"basics": 9, "advanced": 4})
    errors, warnings = check_blueprint([Stratum(3, "basics"), Stratum(2, "advanced")], 5, pool)
    assert errors == []
    assert [s.module for s, _ in warnings] == ["advanced"]  # 4 < 3 x 2; basics holds 9 = 3 x 3
    errors, _ = check_blueprint([Stratum(3, "basics"), Stratum(5, "advanced")], 10, pool)
    messages = [m for _, m in errors]
    assert any("draws 8 item(s) but draw is 10" in m for m in messages)
    assert any("draws 5 but the pool holds only 4" in m for m in messages)


# -- check-content ---------------------------------------------------------------------------------------------


def test_check_content_reports_blueprint_errors_and_small_pools_with_lines(tmp_path):
    text = final_toml({"basics": 3, "advanced": 9}, {"basics": 1, "advanced": 3}, draw=5)
    content = check_files(tmp_path / "q", {"final": text}, [track_spec(modules=MODULES)])
    assert [p.message for p in content.problems] == [
        "the blueprint draws 4 item(s) but draw is 5: they must agree"
    ]
    assert content.problems[0].line == text.splitlines().index("[blueprint]") + 1
    assert [w.message for w in content.warnings if "blueprint" in w.message] == []  # 3 >= 3x1, 9 >= 3x3

    small = final_toml({"basics": 2, "advanced": 9}, {"basics": 1, "advanced": 3}, draw=4)
    content = check_files(tmp_path / "q2", {"final": small}, [track_spec(modules=MODULES)])
    assert content.problems == []
    (warning,) = [w for w in content.warnings if "blueprint" in w.message]
    assert "blueprint (basics): the pool holds 2 item(s) for a draw of 1; at least 3" in warning.message
    assert warning.line == small.splitlines().index("basics = 1") + 1


@pytest.mark.parametrize(
    ("blueprint", "fragment"),
    [
        ("[blueprint]\nnowhere = 2", "blueprint: unknown module 'nowhere'"),
        ("[blueprint]\nbasics = 0", "the count must be a whole number of at least 1"),
        ('[[blueprint]]\nmodule = "basics"\ndifficulty = "brutal"\ncount = 2', "difficulty must be one of"),
        ('[[blueprint]]\nmodule = "basics"\nweight = 2\ncount = 2', "unknown key 'weight' in the blueprint"),
    ],
)
def test_broken_blueprints_are_problems(tmp_path, blueprint, fragment):
    text = final_toml({"basics": 6}, None, draw=2).replace("[[questions]]", blueprint + "\n[[questions]]", 1)
    content = check_files(tmp_path / "q", {"final": text}, [track_spec(modules=MODULES)])
    assert any(fragment in p.message for p in content.problems), [str(p) for p in content.problems]


def test_question_tags_are_checked(tmp_path):
    text = final_toml({}, None, draw=1) + item("a", "nowhere") + item("b", difficulty='"brutal"')
    text += item("c", retired='"yes"')
    content = check_files(tmp_path / "q", {"final": text}, [track_spec(modules=MODULES)])
    messages = [p.message for p in content.problems]
    assert "question 'a': module 'nowhere' is not a module of the track" in messages
    assert any(m.startswith("question 'b': difficulty must be one of") for m in messages)
    assert "question 'c': retired must be true or false, got 'yes'" in messages


def test_a_bank_quiz_draws_the_final_items_and_recertification_never_counts_for_completion(tmp_path):
    final = final_toml({"basics": 6, "advanced": 6}, {"basics": 2, "advanced": 2}, draw=4)
    recert = (
        'title = "Renewal"\ntrack = "test-track"\nkind = "recertification"\nbank = "final"\n'
        "time_limit_minutes = 10\npass_percent = 75\ndraw = 2\n[blueprint]\nbasics = 1\nadvanced = 1\n"
    )
    tracks = [track_spec(modules=MODULES, quizzes=["final", "renewal"])]
    content = check_files(tmp_path / "q", {"final": final, "renewal": recert}, tracks)
    assert [p.message for p in content.problems] == [
        "completion names quiz 'renewal', a recertification: it renews a certificate and never counts towards "
        "earning one"
    ]
    specs = content.parsed["quizzes"]
    assert specs["renewal"].questions == specs["final"].questions
    assert specs["renewal"].content_hash == specs["final"].content_hash

    wrong = recert.replace('bank = "final"', 'bank = "missing"')
    content = check_files(tmp_path / "q2", {"final": final, "renewal": wrong}, [track_spec(modules=MODULES)])
    assert "bank names quiz 'missing', but quizzes/missing.toml is missing" in [
        p.message for p in content.problems
    ]


# -- attempts --------------------------------------------------------------------------------------------------


def test_attempts_follow_the_blueprint_and_a_retake_gets_fresh_items(app, tmp_path, student):
    track = make_track(modules=MODULES)
    final = final_toml({"basics": 8, "advanced": 8}, {"basics": 1, "advanced": 3}, draw=4)
    load_quizzes(tmp_path / "q", {"final": final})
    enrol(student, track)
    add_lessons(track, per_module=1)
    complete_lessons(student, track)  # the final opens when every module is complete
    quiz = quiz_by_slug("final")
    assert quiz.blueprint == [
        {"module": "basics", "type": None, "difficulty": None, "count": 1},
        {"module": "advanced", "type": None, "difficulty": None, "count": 3},
    ]
    first = operations.start_attempt(student, quiz)
    operations.submit_attempt(student, first.id)
    second = operations.start_attempt(student, quiz)
    for attempt in (first, second):
        modules = Counter(entry["question"].split("-")[0] for entry in attempt.layout)
        assert modules == {"basics": 1, "advanced": 3}
    assert not {e["question"] for e in first.layout} & {e["question"] for e in second.layout}


def test_a_retired_item_leaves_new_draws_and_old_attempts_keep_it(app, tmp_path, student, client, login):
    track = make_track()
    load_quizzes(tmp_path / "q", {"basics-quiz": quiz_toml()})
    enrol(student, track)
    quiz = quiz_by_slug("basics-quiz")
    old = operations.start_attempt(student, quiz)
    assert "goal" in {e["question"] for e in old.layout}
    operations.submit_attempt(student, old.id)

    retired = quiz_toml(draw=3).replace('id = "goal"', 'id = "goal"\nretired = true')
    load_quizzes(tmp_path / "q", {"basics-quiz": retired})
    assert quiz.current_version == 2
    new = operations.start_attempt(student, quiz)
    assert {e["question"] for e in new.layout} == {"pick", "pilot", "roi"}
    # The old attempt keeps its version, and its result page still shows the retired item.
    assert old.quiz_version_id != new.quiz_version_id
    assert "goal" in operations.questions_of(old)
    version = app.extensions["sqlalchemy"].session.get(QuizVersion, new.quiz_version_id)
    assert next(q for q in version.questions if q["id"] == "goal")["retired"] is True
    login(client, student)
    page = client.get(f"/quizzes/attempts/{old.id}/result").get_data(as_text=True)
    assert "What should a strategy start from?" in page


def test_recertification_exams_stay_off_the_track_quiz_list(app, tmp_path, student):
    track = make_track(modules=MODULES)
    final = final_toml({"basics": 3, "advanced": 3}, None, draw=2)
    recert = (
        'title = "Renewal"\ntrack = "test-track"\nkind = "recertification"\nbank = "final"\n'
        "time_limit_minutes = 10\npass_percent = 75\ndraw = 2\n"
    )
    load_quizzes(tmp_path / "q", {"final": final, "renewal": recert})
    enrol(student, track)
    assert [s.quiz.slug for s in operations.quizzes_for_track(track.id, student.id)] == ["final"]
    assert [s.quiz.slug for s in operations.quizzes_for_student(student.id)] == ["final"]
    renewal = quiz_by_slug("renewal")
    assert (renewal.kind, renewal.bank, renewal.current_version) == ("recertification", "final", 1)

    # A change to the bank alone is a new version of the quiz that draws from it.
    changed = final.replace('id = "basics-0"', 'id = "basics-0"\nretired = true')
    load_quizzes(tmp_path / "q", {"final": changed, "renewal": recert})
    assert renewal.current_version == 2


def test_staff_see_each_exam_blueprint_with_weights_and_pools(app, tmp_path, client, instructor, login):
    make_track(modules=MODULES)
    final = final_toml({"basics": 2, "advanced": 9}, {"basics": 1, "advanced": 3}, draw=4)
    load_quizzes(tmp_path / "q", {"final": final, "basics-quiz": quiz_toml()})
    (exam,) = [e for e in operations.exam_blueprints() if e.quiz.slug == "final"]
    assert [(r.label, r.count, r.weight, r.pool, r.fresh_enough) for r in exam.rows] == [
        ("Basics", 1, 25.0, 2, False),
        ("Advanced", 3, 75.0, 9, True),
    ]
    login(client, instructor)
    page = client.get("/staff/quizzes/blueprints").get_data(as_text=True)
    assert "Advanced</td>\n        <td>3</td>\n        <td>75.0%</td>" in page
    assert "(under 3x the draw)" in page
    assert "No blueprint: each attempt draws 4 items from the whole pool." in page


def test_a_recertification_prefers_items_the_student_did_not_meet_in_the_final(app, tmp_path, student, monkeypatch):
    # The draw is under test, not the renewal window (tests/test_recertification.py): open the exam's gate here.
    from lms.quizzes import unlocking

    monkeypatch.setitem(unlocking._GATES, "recertification", lambda user, quiz, track: unlocking.Unlock(True))
    track = make_track(modules=MODULES)
    final = final_toml({"basics": 4, "advanced": 4}, {"basics": 2, "advanced": 2}, draw=4)
    recert = (
        'title = "Renewal"\ntrack = "test-track"\nkind = "recertification"\nbank = "final"\n'
        "time_limit_minutes = 10\npass_percent = 75\ndraw = 4\n[blueprint]\nbasics = 2\nadvanced = 2\n"
    )
    load_quizzes(tmp_path / "q", {"final": final, "renewal": recert})
    enrol(student, track)
    add_lessons(track, per_module=1)
    complete_lessons(student, track)
    in_final = operations.start_attempt(student, quiz_by_slug("final"))
    operations.submit_attempt(student, in_final.id)
    renewal = operations.start_attempt(student, quiz_by_slug("renewal"))
    # Each module holds 4 items, 2 met in the final: the renewal draws the other 2 of each.
    assert not {e["question"] for e in in_final.layout} & {e["question"] for e in renewal.layout}
