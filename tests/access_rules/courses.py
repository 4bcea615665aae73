"""Access rules for the track catalog, track pages, lessons, enrolment and progress.

prepare() leaves samples.track (two modules, one lesson each, opened in order) with samples.student enrolled,
and samples.lesson (its first lesson), for other features' rules to use too.
"""

from tests.access_rules import LOGIN, REDIRECT, Rule, everyone, signed_in
from tests.fixtures.courses.samples import enrol_directly, lesson_by_slug, make_track


def prepare(s):
    s.track = make_track("access-track", modules=2, lessons_per_module=1)
    s.lesson = lesson_by_slug(s.track, "m1-l1")
    enrol_directly(s.student.id, s.track)


LESSON = "/tracks/access-track/lessons/m1-l1"

RULES = [
    Rule("courses.catalog_page", "GET", lambda s: "/tracks", everyone(200)),
    Rule("courses.track", "GET", lambda s: "/tracks/access-track", everyone(200)),
    # Enrolled students read lessons; staff read every lesson without enrolling; others get a page saying to enrol
    # (403, tested in test_courses_views.py).
    Rule("courses.lesson", "GET", lambda s: LESSON, {**signed_in(200), "anonymous": LOGIN}),
    Rule("courses.enroll", "POST", lambda s: "/tracks/access-track/enroll", signed_in(REDIRECT)),
    Rule("courses.leave", "POST", lambda s: "/tracks/access-track/leave", signed_in(REDIRECT)),
    Rule("courses.complete", "POST", lambda s: f"{LESSON}/complete", signed_in(REDIRECT)),
]
