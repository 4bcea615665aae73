"""The kinds of notification: who gets each, its name on the preferences page, and whether it may be turned off."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    audience: str  # "student" | "staff" | "admin" | "everyone"
    can_turn_off: bool = True


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("grade_released", "A grade on your handbook is released", "student"),
        Kind("regrade_answered", "Your regrade request is answered", "student"),
        Kind("certificate_issued", "A certificate is issued to you", "student"),
        Kind(
            "certificate_changed", "Your certificate is suspended, revoked, restored or reissued", "student"
        ),
        Kind("certificate_expiring", "Your certificate expires soon", "student"),
        Kind("handbook_due", "A handbook falls due soon", "student"),
        Kind("quiz_submitted_by_server", "A quiz attempt was submitted at its deadline", "student"),
        Kind("security", "Account security (password, email, new sign-in)", "everyone", can_turn_off=False),
        Kind("submissions_digest", "New submissions in the grading queue (one daily digest)", "staff"),
        Kind("regrade_requested", "A student asks for a regrade", "staff"),
        Kind("certificate_suspended_staff", "A certificate is suspended because its basis changed", "staff"),
        Kind("jobs_dead", "A background job failed for good (dead letters)", "admin"),
    )
}


def kinds_for(role: str) -> list[Kind]:
    """The kinds a person of `role` can receive, as the preferences page lists them."""
    audiences = {"everyone", "student"} if role == "student" else {"everyone", "staff"}
    if role == "admin":
        audiences.add("admin")
    return [kind for kind in KINDS.values() if kind.audience in audiences]
