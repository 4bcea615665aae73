"""Single sign-on rules: who a provider's person signs in as, what role the provider's claim gives, and when
an account may no longer use its password. Views, tests and commands call these verbs; nothing here reads the
web request (the client that speaks to the provider is lms.sso.client, used by the views).

- An account is found by its link (issuer + subject), whatever address the provider sends now.
- Without a link, the provider must say the address is verified (`email_verified`): the account with that
  address is linked (an unconfirmed one loses its password and sessions first: whoever created it may not own
  the address), or one is created just in time. Each link and each new account is in the audit trail.
- With LMS_OIDC_ROLE_CLAIM and LMS_OIDC_ROLE_MAP, the claim's value sets the role at each sign-in; a value that
  maps to nothing gives a new account the student role and leaves an existing account's role as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.accounts import operations as accounts
from lms.accounts.models import Role, User
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.sso.models import SsoIdentity

__all__ = [
    "SsoSignIn",
    "identity_of",
    "mapped_role",
    "password_refusal",
    "sign_in_with_claims",
]

SOURCE = "sso"
# When the claim carries several values (a list of groups), the one giving the most rights wins.
_RANK = {Role.STUDENT: 0, Role.INSTRUCTOR: 1, Role.ADMIN: 2}
_ATTEMPTS = 2  # a first sign-in racing another of the same person: the second attempt finds the winner's link


@dataclass(frozen=True)
class SsoSignIn:
    user: User
    created: bool  # the account was created by this sign-in
    linked: bool  # an existing account was linked to the provider's person by this sign-in


def mapped_role(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str]) -> Role | None:
    """The role the claim's value (a string, or a list such as groups) maps to; None when nothing maps."""
    if not claim or not role_map:
        return None
    value = claims.get(claim)
    values = value if isinstance(value, list) else [value]
    roles = [Role(role_map[v]) for v in values if isinstance(v, str) and v in role_map]
    return max(roles, key=_RANK.__getitem__) if roles else None


def _email_verified(claims: Mapping[str, Any]) -> bool:
    verified = claims.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")  # some send "true"


def _full_name(claims: Mapping[str, Any], email: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return " ".join(name.split())[:200] or email.split("@", 1)[0]


def identity_of(issuer: str, subject: str) -> SsoIdentity | None:
    return db.session.execute(
        sa.select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    ).scalar_one_or_none()


def _link(
    issuer: str, subject: str, claims: Mapping[str, Any], role_claim: str, role_map: Mapping[str, str]
) -> tuple[SsoIdentity, User, bool]:
    """The account for a person seen for the first time: linked by verified address, or created."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or not _email_verified(claims):
        raise DomainError(
            "Your organization's account did not give a verified email address, so we cannot tell which "
            "account is yours. Ask your administrator to verify your address at the identity provider."
        )
    email = accounts.normalize_email(email)
    user = accounts.find_user_by_email(email)
    created = user is None
    if user is None:
        role = mapped_role(claims, role_claim, role_map) or Role.STUDENT
        user = accounts.provision_account(email, _full_name(claims, email), role, source=SOURCE)
        cleared = False
    else:
        cleared = accounts.claim_unconfirmed_account(user, source=SOURCE)
    identity = SsoIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email)
    db.session.add(identity)
    db.session.flush()
    action = "sso.provisioned" if created else "sso.linked"
    record_event(
        user.id,
        action,
        "user",
        user.id,
        issuer=issuer,
        subject=subject,
        email=email,
        password_cleared=cleared,
    )
    return identity, user, created


def _find_or_link(
    issuer: str, subject: str, claims: Mapping[str, Any], role_claim: str, role_map: Mapping[str, str]
) -> tuple[SsoIdentity, User, bool, bool]:
    """The identity, its account, whether the account was created and whether the link was made just now."""
    for attempt in range(_ATTEMPTS):
        try:
            identity = identity_of(issuer, subject)
            if identity is None:
                return (*_link(issuer, subject, claims, role_claim, role_map), True)
            user = db.session.get(User, identity.user_id)
            if user is not None:
                return identity, user, False, False
        except sa.exc.IntegrityError:
            db.session.rollback()
            if attempt + 1 == _ATTEMPTS:
                raise
    raise DomainError("This sign-in could not be completed just now. Try again.")


def sign_in_with_claims(
    issuer: str,
    claims: Mapping[str, Any],
    *,
    role_claim: str = "",
    role_map: Mapping[str, str] | None = None,
) -> SsoSignIn:
    """The account the provider's verified ID token claims sign in as (linked or created as needed), its role
    set from the role claim; commits. DomainError when the provider's answer names nobody we may sign in."""
    role_map = role_map or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise DomainError(
            "The identity provider's answer named nobody. Try again, or ask your administrator."
        )
    identity, user, created, new_link = _find_or_link(issuer, subject, claims, role_claim, role_map)
    if not user.active:
        db.session.rollback()
        raise DomainError("This account is deactivated. Ask an administrator if you need it again.")
    identity.last_sign_in_at = now_utc()
    email = claims.get("email")
    if isinstance(email, str) and email:
        identity.email = accounts.normalize_email(email)[:254]
    db.session.commit()
    if not created:
        _apply_role(user, mapped_role(claims, role_claim, role_map), role_claim)
    return SsoSignIn(user=user, created=created, linked=new_link and not created)


def _apply_role(user: User, role: Role | None, claim: str) -> None:
    """The role claim maps to another role than the account has: change it (audited twice: why, and what)."""
    if role is None or role is user.role_enum:
        return
    record_event(None, "sso.role_mapped", "user", user.id, claim=claim, old=user.role, new=role.value)
    try:
        accounts.set_role(None, user, role)  # commits with the record above; keeps the last admin
    except DomainError as error:
        db.session.rollback()
        record_event(
            None, "sso.role_not_mapped", "user", user.id, claim=claim, new=role.value, why=error.message
        )
        db.session.commit()


def password_refusal(user: User) -> str | None:
    """With LMS_OIDC_DISABLE_PASSWORDS, an account linked to the configured provider signs in only through it."""
    config = current_app.config
    if not config.get("OIDC_ISSUER") or not config.get("OIDC_DISABLE_PASSWORDS"):
        return None
    linked = db.session.execute(
        sa.select(SsoIdentity.id)
        .where(SsoIdentity.user_id == user.id, SsoIdentity.issuer == config["OIDC_ISSUER"])
        .limit(1)
    ).first()
    if linked is None:
        return None
    name = config["OIDC_NAME"]
    return f"Your account signs in with {name}, not with a password: use the “Sign in with {name}” button."
