"""Access rules for accounts and the site pages."""

from tests.access_rules import REDIRECT, Rule, admin_only, everyone, signed_in, visitors_only

EMAIL_LINKS = [
    ("accounts.confirm_email", "/confirm-email/not-a-token"),
    ("accounts.confirm_email_change", "/confirm-email-change/not-a-token"),
    ("accounts.undo_email_change", "/undo-email-change/not-a-token"),
]
PASSWORD_CHANGE = {"current_password": "wrong-on-purpose", "new_password": "x", "confirm": "y"}

RULES = [
    Rule("pages.index", "GET", lambda s: "/", {**everyone(REDIRECT), "anonymous": 200}),
    Rule("pages.dashboard", "GET", lambda s: "/dashboard", signed_in(200)),
    Rule("pages.healthz", "GET", lambda s: "/healthz", everyone(200)),
    Rule("accounts.register", "GET", lambda s: "/register", visitors_only(200)),
    Rule(
        "accounts.register",
        "POST",
        lambda s: "/register",
        visitors_only(422),
        data=lambda s: {"email": "bad"},
    ),
    Rule("accounts.login", "GET", lambda s: "/login", visitors_only(200)),
    Rule("accounts.login", "POST", lambda s: "/login", visitors_only(422), data=lambda s: {"email": "bad"}),
    Rule("accounts.logout", "POST", lambda s: "/logout", signed_in(REDIRECT)),
    Rule("accounts.profile", "GET", lambda s: "/account", signed_in(200)),
    Rule("accounts.profile", "POST", lambda s: "/account", signed_in(422), data=lambda s: {"email": "bad"}),
    Rule(
        "accounts.set_time_zone",
        "POST",
        lambda s: "/account/time-zone",
        signed_in(422),
        data=lambda s: {"time_zone": "Mars/Olympus_Mons"},
    ),
    Rule("accounts.change_password", "GET", lambda s: "/account/password", signed_in(200)),
    Rule(
        "accounts.change_password",
        "POST",
        lambda s: "/account/password",
        signed_in(422),
        data=lambda s: PASSWORD_CHANGE,
    ),
    Rule("accounts.forgot_password", "GET", lambda s: "/forgot-password", everyone(200)),
    Rule(
        "accounts.forgot_password",
        "POST",
        lambda s: "/forgot-password",
        everyone(REDIRECT),
        data=lambda s: {"email": "nobody@example.org"},
    ),
    Rule("accounts.reset_password", "GET", lambda s: "/reset-password/not-a-token", everyone(200)),
    Rule(
        "accounts.reset_password",
        "POST",
        lambda s: "/reset-password/not-a-token",
        everyone(422),
        data=lambda s: {"password": "a-long-enough-password", "confirm": "a-long-enough-password"},
    ),
    Rule("accounts.check_inbox", "GET", lambda s: "/register/check-inbox", everyone(200)),
    Rule(
        "accounts.change_email",
        "POST",
        lambda s: "/account/email",
        signed_in(422),
        data=lambda s: {"email": "bad"},
    ),
    Rule(
        "accounts.resend_confirmation",
        "POST",
        lambda s: "/account/confirm-email/resend",
        signed_in(REDIRECT),
    ),
    *(
        rule
        for endpoint, path in EMAIL_LINKS
        for rule in (
            Rule(endpoint, "GET", lambda s, path=path: path, everyone(200)),
            Rule(endpoint, "POST", lambda s, path=path: path, everyone(422)),
        )
    ),
    Rule("accounts.admin_users", "GET", lambda s: "/admin/users", admin_only(200)),
    Rule(
        "accounts.admin_set_role",
        "POST",
        lambda s: f"/admin/users/{s.other_student.id}/role",
        admin_only(REDIRECT),
        data=lambda s: {"role": "student"},
    ),
    Rule("accounts.admin_invite_user", "GET", lambda s: "/admin/users/new", admin_only(200)),
    Rule(
        "accounts.admin_invite_user",
        "POST",
        lambda s: "/admin/users/new",
        admin_only(422),
        data=lambda s: {"email": "bad", "full_name": "X", "role": "student"},
    ),
    *(
        rule
        for verb in ("deactivate", "reactivate")
        for rule in (
            Rule(
                f"accounts.admin_{verb}_user",
                "GET",
                lambda s, verb=verb: f"/admin/users/{s.other_student.id}/{verb}",
                admin_only(200),
            ),
            Rule(
                f"accounts.admin_{verb}_user",
                "POST",
                lambda s, verb=verb: f"/admin/users/{s.other_student.id}/{verb}",
                admin_only(REDIRECT),
            ),
        )
    ),
    Rule(
        "accounts.admin_send_reset",
        "POST",
        lambda s: f"/admin/users/{s.other_student.id}/reset-password",
        admin_only(REDIRECT),
    ),
]

RULES += [
    Rule("accounts.sessions.index", "GET", lambda s: "/account/sessions", signed_in(200)),
    Rule(
        "accounts.sessions.end_others", "POST", lambda s: "/account/sessions/others/end", signed_in(REDIRECT)
    ),
    # Another user's session (or none): 404 for everyone signed in.
    Rule("accounts.sessions.end_one", "POST", lambda s: "/account/sessions/999999/end", signed_in(404)),
]
