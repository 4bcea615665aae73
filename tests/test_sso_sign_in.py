"""Single sign-on against a real OpenID provider (tools/oidc-provider, started on loopback): a first sign-in
creates the account, later ones find it by issuer and subject, an existing account is linked by its verified
address, the role claim maps, passwords can be turned off for linked accounts, and `next` stays on this site.
Both databases."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.accounts import operations as accounts
from lms.accounts.models import Role, User, UserSession
from lms.audit import AuditEvent
from lms.extensions import db
from lms.sso.models import SsoIdentity
from tests.conftest import PASSWORD
from tests.oidc import Provider, sign_in_with_sso

ROLE_MAP = {"lms-admins": "admin", "lms-instructors": "instructor"}


@pytest.fixture
def app_config(app_config: dict[str, Any], oidc_provider: Provider) -> dict[str, Any]:
    return {**oidc_provider.settings(), **app_config}


def _person(provider: Provider, login: str, **claims: Any) -> str:
    defaults = {
        "email": f"{login}@example.org",
        "email_verified": True,
        "name": login.replace("-", " ").title(),
    }
    return provider.add_user(login, **{**defaults, **claims})


def _actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.subject_type == "user", AuditEvent.subject_id == str(user_id))
            .order_by(AuditEvent.id)
        )
    )


def _only_user(email: str) -> User:
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one()


def test_the_sign_in_page_offers_the_provider(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Example Corp" in page
    assert 'href="/sso/login?next=/account"' in client.get("/login?next=/account").get_data(as_text=True)


def test_a_first_sign_in_creates_the_account_and_a_server_side_session(client, oidc_provider):
    login = _person(oidc_provider, "new-person", name="Nora New", email="Nora.New@Example.org")
    response = sign_in_with_sso(client, login)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"

    user = _only_user("nora.new@example.org")
    assert (user.full_name, user.role, user.email_verified) == ("Nora New", "student", True)
    identity = db.session.execute(sa.select(SsoIdentity)).scalar_one()
    assert (identity.user_id, identity.issuer, identity.subject) == (user.id, oidc_provider.issuer, login)
    assert _actions(user.id) == ["user.registered", "sso.provisioned", "user.signed_in", "session.started"]
    # The same server-side session as a password sign-in: one live session, and the dashboard is the person's.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and "Nora New" in dashboard.get_data(as_text=True)
    assert client.get_cookie("lms_known_device") is not None


def test_a_later_sign_in_finds_the_same_account_even_with_a_new_address(client, app, oidc_provider):
    login = _person(oidc_provider, "returning-person")
    assert sign_in_with_sso(client, login).status_code == 302
    first = _only_user("returning-person@example.org").id

    oidc_provider.add_user(login, email="renamed@example.org", email_verified=False, name="Returning Person")
    again = app.test_client()
    assert sign_in_with_sso(again, login).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 1
    assert again.get("/account").status_code == 200
    assert "Returning Person" in again.get("/account").get_data(as_text=True)
    assert _actions(first).count("sso.provisioned") == 1 and "sso.linked" not in _actions(first)


def test_an_existing_account_is_linked_by_its_verified_address(client, oidc_provider, make_user):
    local = make_user(email="linda.local@example.org", full_name="Linda Local")
    login = _person(oidc_provider, "linda", email="LINDA.local@example.org", name="Someone Else")
    assert sign_in_with_sso(client, login).status_code == 302

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    identity = db.session.execute(sa.select(SsoIdentity)).scalar_one()
    assert identity.user_id == local.id
    assert _actions(local.id)[-3:] == ["sso.linked", "user.signed_in", "session.started"]
    assert db.session.get(User, local.id).full_name == "Linda Local"  # the account keeps its own name
    assert (
        accounts.authenticate("linda.local@example.org", PASSWORD) is not None
    )  # passwords stay, unless off


def test_an_unconfirmed_account_loses_its_password_when_the_provider_vouches_for_the_address(
    client, oidc_provider
):
    # Someone signed up with the address before its owner (and never confirmed it): they must not keep a way in.
    accounts.sign_up("owner@example.org", "Pre Registered", "squatters-password-1")
    login = _person(oidc_provider, "owner", email="owner@example.org")
    assert sign_in_with_sso(client, login).status_code == 302

    user = _only_user("owner@example.org")
    assert user.email_verified
    assert accounts.authenticate("owner@example.org", "squatters-password-1") is None
    assert "user.password_cleared" in _actions(user.id)


def test_an_unverified_address_is_refused_and_creates_nothing(client, oidc_provider, make_user):
    make_user(email="victim@example.org")
    login = _person(oidc_provider, "claims-victim", email="victim@example.org", email_verified=False)
    response = sign_in_with_sso(client, login)
    assert response.status_code == 403
    assert "did not give a verified email address" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_a_deactivated_account_is_refused(client, oidc_provider, make_user):
    user = make_user(email="gone@example.org")
    user.active = False
    db.session.commit()
    response = sign_in_with_sso(client, _person(oidc_provider, "gone"))
    assert response.status_code == 403 and "deactivated" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 0


@pytest.mark.app_config(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP=ROLE_MAP)
def test_the_role_claim_maps_at_each_sign_in(app, oidc_provider):
    login = _person(oidc_provider, "rolf", groups=["everyone", "lms-instructors"])
    assert sign_in_with_sso(app.test_client(), login).status_code == 302
    user = _only_user("rolf@example.org")
    assert user.role == "instructor"

    oidc_provider.add_user(
        login, email="rolf@example.org", email_verified=True, groups=["lms-instructors", "lms-admins"]
    )
    assert sign_in_with_sso(app.test_client(), login).status_code == 302
    db.session.refresh(user)
    assert user.role == "admin"
    change = db.session.execute(
        sa.select(AuditEvent).where(
            AuditEvent.action == "user.role_changed", AuditEvent.subject_id == str(user.id)
        )
    ).scalar_one()
    assert change.data == {"old": "instructor", "new": "admin"}
    assert "sso.role_mapped" in _actions(user.id)

    # A value that maps to nothing leaves an existing account's role alone.
    oidc_provider.add_user(login, email="rolf@example.org", email_verified=True, groups=["unknown"])
    assert sign_in_with_sso(app.test_client(), login).status_code == 302
    db.session.refresh(user)
    assert user.role == "admin"

    # ... and gives a new account the student role.
    newcomer = _person(oidc_provider, "nina", groups=["somewhere-else"])
    assert sign_in_with_sso(app.test_client(), newcomer).status_code == 302
    assert _only_user("nina@example.org").role == "student"


@pytest.mark.app_config(OIDC_ROLE_CLAIM="lms_role", OIDC_ROLE_MAP={"teacher": "instructor"})
def test_a_single_valued_role_claim_maps_too(client, oidc_provider):
    login = _person(oidc_provider, "tess", lms_role="teacher")
    assert sign_in_with_sso(client, login).status_code == 302
    assert _only_user("tess@example.org").role_enum is Role.INSTRUCTOR


@pytest.mark.app_config(OIDC_DISABLE_PASSWORDS=True)
def test_passwords_can_be_turned_off_for_linked_accounts(app, oidc_provider, make_user):
    linked = make_user(email="paula@example.org")
    unlinked = make_user(email="ursula@example.org")
    assert sign_in_with_sso(app.test_client(), _person(oidc_provider, "paula")).status_code == 302

    client = app.test_client()
    refused = client.post("/login", data={"email": linked.email, "password": PASSWORD})
    assert refused.status_code == 422
    assert "use the “Sign in with Example Corp” button" in refused.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # not signed in
    # Password reset refuses too, for a link asked for before the setting or by hand.
    token = accounts.make_password_reset_token(db.session.get(User, linked.id))
    reset = client.post(
        f"/reset-password/{token}", data={"password": "a-new-password-9", "confirm": "a-new-password-9"}
    )
    assert reset.status_code == 422 and "Sign in with Example Corp" in reset.get_data(as_text=True)
    assert accounts.authenticate(linked.email, PASSWORD) is not None  # unchanged

    # An account that is not linked keeps its password.
    assert client.post("/login", data={"email": unlinked.email, "password": PASSWORD}).status_code == 302


def test_passwords_stay_on_by_default(client, oidc_provider, make_user):
    user = make_user(email="pat@example.org")
    assert sign_in_with_sso(client, _person(oidc_provider, "pat")).status_code == 302
    other = client.application.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("next_target", "lands_on"),
    [
        ("/account", "/account"),
        ("//evil.example/phish", "/dashboard"),
        ("https://evil.example/phish", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ],
)
def test_next_is_honoured_only_on_this_site(client, oidc_provider, next_target, lands_on):
    login = _person(oidc_provider, "nick")
    response = sign_in_with_sso(client, login, next_target=next_target)
    assert response.status_code == 302 and response.headers["Location"] == lands_on
