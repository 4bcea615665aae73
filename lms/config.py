"""Settings from the environment, with safe defaults: SQLite in the instance folder, a generated dev secret."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PRODUCTION = "production"
# Where `flask run` listens unless told otherwise (FLASK_RUN_HOST, FLASK_RUN_PORT), and so the development links.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
CERTIFICATE_PAPERS = ("A4", "Letter")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]"})  # noqa: S104 (recognised here, never bound to)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


JOBS_RUNNERS = ("auto", "thread", "worker", "manual")


def _jobs_runner() -> str:
    raw = os.environ.get("LMS_JOBS_RUNNER", "").strip().lower() or "auto"
    if raw not in JOBS_RUNNERS:
        raise RuntimeError(f"LMS_JOBS_RUNNER must be one of {', '.join(JOBS_RUNNERS)}, got {raw!r}")
    return raw


def _env_days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        days = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError as exc:
        raise RuntimeError(f"{name} must be whole numbers of days separated by commas, got {raw!r}") from exc
    if not days or min(days) < 1:
        raise RuntimeError(f"{name} must list at least one number of days, each 1 or more, got {raw!r}")
    return days


def _certificate_paper() -> str:
    """The PDF certificate's paper: A4 (the default) or Letter, whatever the case it is written in."""
    raw = os.environ.get("LMS_CERTIFICATE_PAPER", "").strip() or "A4"
    for paper in CERTIFICATE_PAPERS:
        if raw.lower() == paper.lower():
            return paper
    raise RuntimeError(f"LMS_CERTIFICATE_PAPER must be one of {', '.join(CERTIFICATE_PAPERS)}, got {raw!r}")


OIDC_ROLES = (
    "student",
    "instructor",
    "admin",
)  # lms.accounts.models.Role's values (plumbing imports no feature)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _oidc_role_map(raw: str) -> dict[str, str]:
    """LMS_OIDC_ROLE_MAP, "claim-value=role,...": which value of the role claim gives which role."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        value, sep, role = (x.strip() for x in part.rpartition("="))
        if not sep or not value or role.lower() not in OIDC_ROLES:
            raise RuntimeError(
                f"LMS_OIDC_ROLE_MAP must be claim-value=role pairs separated by commas, each role one of "
                f"{', '.join(OIDC_ROLES)}; got {part!r}"
            )
        mapping[value] = role.lower()
    return mapping


def _oidc_settings(production: bool) -> dict[str, Any]:
    """Single sign-on (lms.sso): off unless LMS_OIDC_ISSUER names the provider; then its client id and secret are
    needed, and in production the issuer must be https (http only on this machine's loopback in development)."""
    from urllib.parse import urlsplit

    issuer = os.environ.get("LMS_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = os.environ.get("LMS_OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("LMS_OIDC_CLIENT_SECRET", "").strip()
    if issuer:
        parts = urlsplit(issuer)
        loopback_http = parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS and not production
        if parts.scheme != "https" and not loopback_http:
            raise RuntimeError(
                f"LMS_OIDC_ISSUER must be an https URL (http only for a provider on 127.0.0.1 or localhost "
                f"outside production), got {issuer!r}"
            )
        if not client_id or not secret:
            raise RuntimeError(
                "LMS_OIDC_CLIENT_ID and LMS_OIDC_CLIENT_SECRET must be set with LMS_OIDC_ISSUER"
            )
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_NAME": os.environ.get("LMS_OIDC_NAME", "").strip() or "your organization",
        "OIDC_SCOPES": os.environ.get("LMS_OIDC_SCOPES", "").strip() or "openid email profile",
        "OIDC_ROLE_CLAIM": os.environ.get("LMS_OIDC_ROLE_CLAIM", "").strip(),
        "OIDC_ROLE_MAP": _oidc_role_map(os.environ.get("LMS_OIDC_ROLE_MAP", "")),
        "OIDC_DISABLE_PASSWORDS": _env_bool("LMS_OIDC_DISABLE_PASSWORDS", False),
        "OIDC_TIMEOUT_SECONDS": _env_int("LMS_OIDC_TIMEOUT_SECONDS", 10),
    }


def _dev_secret_key(instance_path: Path) -> str:
    """Generate the development secret once and keep it in the instance folder, so sessions survive restarts.

    Several processes may start at once (test workers, gunicorn workers): each writes a candidate key to a file
    of its own, and os.link, which never overwrites, lets exactly one become the key; the others read it."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        candidate = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process got there first: its key is the key
        finally:
            candidate.unlink()
    return path.read_text().strip()


def _base_url(production: bool) -> str:
    """The public address printed in links (certificates, QR codes, Open Badges ids): LMS_BASE_URL when set.

    In development the default is where the dev server listens: `flask run` takes its host and port from
    FLASK_RUN_HOST and FLASK_RUN_PORT (`make run HOST=... PORT=...` sets them), and so do the links, so the two
    cannot disagree. Production ignores them: its address is the one configured (gunicorn's bind is not it)."""
    configured = os.environ.get("LMS_BASE_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    if production:
        return DEFAULT_BASE_URL
    host = os.environ.get("FLASK_RUN_HOST", "").strip() or DEFAULT_HOST
    port = _env_int("FLASK_RUN_PORT", DEFAULT_PORT)
    if host in WILDCARD_HOSTS:  # listening everywhere: this machine's own address reaches it
        host = DEFAULT_HOST
    if ":" in host:  # an IPv6 address is bracketed in a URL
        host = f"[{host.strip('[]')}]"
    return f"http://{host}:{port}"


def load_config(instance_path: Path) -> dict[str, Any]:
    """Read every LMS_* setting; fail loudly on what production must not default."""
    env = os.environ.get("LMS_ENV", "development").strip().lower()
    production = env == PRODUCTION

    secret = os.environ.get("LMS_SECRET_KEY", "").strip()
    if not secret:
        if production:
            raise RuntimeError("LMS_SECRET_KEY must be set when LMS_ENV=production")
        secret = _dev_secret_key(instance_path)

    ratelimit_storage = os.environ.get("LMS_RATELIMIT_STORAGE_URL", "").strip() or "memory://"
    if production and ratelimit_storage.startswith("memory://") and _env_bool("LMS_RATELIMIT_ENABLED", True):
        # Each worker of each host would count apart: "5 sign-ins a minute" would become 5 x hosts x workers.
        raise RuntimeError(
            "LMS_RATELIMIT_STORAGE_URL must name a shared store (redis://...) when LMS_ENV=production; "
            "memory:// counts each worker apart, so the limits would not hold"
        )

    database_url = (
        os.environ.get("LMS_DATABASE_URL", "").strip() or f"sqlite:///{instance_path / 'lms.sqlite3'}"
    )
    upload_dir = os.environ.get("LMS_UPLOAD_DIR", "").strip() or str(instance_path / "uploads")
    cookie_secure = _env_bool("LMS_COOKIE_SECURE", production)
    # Browsers keep a __Host- cookie only if it is Secure, has Path=/ and no Domain: so it cannot be set or
    # shadowed by a sibling subdomain or an insecure page. In production, wherever cookies are HTTPS-only.
    host_prefix = "__Host-" if production and cookie_secure else ""

    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret,
        # The keys that sign Open Badges 3.0 credentials (lms.certificates.keys): a keyring file, or the keys
        # themselves; production refuses to start with neither, development makes instance/signing_keys once.
        "SIGNING_KEY_FILE": os.environ.get("LMS_SIGNING_KEY_FILE", "").strip(),
        "SIGNING_KEY": os.environ.get("LMS_SIGNING_KEY", "").strip(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No ping on every checkout (a round trip per request): lms.web pings only connections that sat idle.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False, "pool_recycle": 3600},
        "DATABASE_IDLE_PING_SECONDS": _env_int("LMS_DATABASE_IDLE_PING_SECONDS", 10),
        "UPLOAD_DIR": upload_dir,
        "BASE_URL": _base_url(production),
        "ORGANIZATION_NAME": os.environ.get("LMS_ORGANIZATION_NAME", "Social Media Academy"),
        "MAX_CONTENT_LENGTH": _env_int("LMS_MAX_UPLOAD_MB", 25) * 1024 * 1024 + 64 * 1024,
        "PASSWORD_HASH_METHOD": os.environ.get("LMS_PASSWORD_HASH_METHOD", "scrypt"),
        "PASSWORD_RESET_MAX_AGE": _env_int("LMS_PASSWORD_RESET_MAX_AGE", 3600),
        # How long an invitation's link (an account an admin created) stays valid: a week.
        "INVITATION_MAX_AGE": _env_int("LMS_INVITATION_MAX_AGE", 7 * 86400),
        # Cookies: signed, HttpOnly, SameSite=Lax; Secure wherever the site is served over HTTPS.
        "SESSION_COOKIE_NAME": f"{host_prefix}session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_NAME": f"{host_prefix}remember_token",
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        # The sign-in throttle's signed "this browser signed in here before" cookie (lms.accounts.throttling).
        "KNOWN_DEVICE_COOKIE_NAME": f"{host_prefix}lms_known_device",
        # Server-side sessions (lms.accounts.sessions): a session ends when it signs out, after this long unused
        # (idle) or this long after sign-in (absolute); "keep me signed in" sessions have their own pair, the
        # absolute one being the remember-me cookie's lifetime. 0 turns a limit off.
        "REMEMBER_COOKIE_DURATION": timedelta(days=_env_int("LMS_REMEMBER_DAYS", 30)),
        "SESSION_IDLE_MINUTES": _env_int("LMS_SESSION_IDLE_MINUTES", 120),
        "SESSION_ABSOLUTE_HOURS": _env_int("LMS_SESSION_ABSOLUTE_HOURS", 12),
        "REMEMBER_IDLE_DAYS": _env_int("LMS_REMEMBER_IDLE_DAYS", 14),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, so a long quiz never loses its token
        "RATELIMIT_ENABLED": _env_bool("LMS_RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Several deployments (or test runs) may share one Redis: each counts under its own prefix.
        "RATELIMIT_KEY_PREFIX": os.environ.get("LMS_RATELIMIT_KEY_PREFIX", "lms"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LMS_LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
        # Failed sign-ins (lms.accounts.throttling): per account and address, in growing tiers; per account from
        # anywhere, a ceiling that holds back only browsers that never signed in to the account.
        "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": os.environ.get(
            "LMS_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "5 per minute; 10 per 10 minutes; 20 per hour; 40 per day"
        ),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LMS_LOGIN_LIMIT_PER_ACCOUNT", "50 per hour"),
        "KNOWN_DEVICE_DAYS": _env_int("LMS_KNOWN_DEVICE_DAYS", 180),
        # Email links (lms.accounts.verification): confirming an address, and undoing an email change.
        "EMAIL_CONFIRM_MAX_AGE": _env_int("LMS_EMAIL_CONFIRM_MAX_AGE", 3 * 86400),
        "EMAIL_UNDO_MAX_AGE": _env_int("LMS_EMAIL_UNDO_MAX_AGE", 7 * 86400),
        "CONFIRM_RESEND_LIMIT": os.environ.get("LMS_CONFIRM_RESEND_LIMIT", "3 per hour"),
        # Requests per API token (lms/api), counted in the rate limit store like the sign-in limits.
        "API_RATE_LIMIT": os.environ.get("LMS_API_RATE_LIMIT", "600 per minute"),
        "LOG_LEVEL": os.environ.get("LMS_LOG_LEVEL", "INFO"),
        "ACCESS_LOG": _env_bool("LMS_ACCESS_LOG", production),
        # Certificate lookups per client address: single codes, and codes in bulk (each code in a list counts).
        "CERTIFICATE_VERIFY_LIMIT": os.environ.get("LMS_VERIFY_LIMIT_PER_ADDRESS", "60 per minute"),
        "CERTIFICATE_BULK_VERIFY_LIMIT": os.environ.get("LMS_BULK_VERIFY_LIMIT_PER_ADDRESS", "2000 per hour"),
        # Views of a certificate's public page are counted in memory and written this many seconds later (0: at once).
        "CERTIFICATE_COUNT_FLUSH_SECONDS": _env_int("LMS_VERIFICATION_COUNT_FLUSH_SECONDS", 5),
        # How the PDF certificate looks: its paper, and the issuer's signature block (a signature image file is
        # optional: without one the block has a line to sign on).
        "CERTIFICATE_PAPER": _certificate_paper(),
        "CERTIFICATE_SIGNATORY_NAME": os.environ.get("LMS_CERTIFICATE_SIGNATORY_NAME", "").strip(),
        "CERTIFICATE_SIGNATORY_TITLE": os.environ.get("LMS_CERTIFICATE_SIGNATORY_TITLE", "").strip(),
        "CERTIFICATE_SIGNATURE_IMAGE": os.environ.get("LMS_CERTIFICATE_SIGNATURE_IMAGE", "").strip(),
        # How late an autosaved answer given before the deadline may still arrive (a network's delay).
        "QUIZ_NETWORK_GRACE_SECONDS": _env_int("LMS_QUIZ_NETWORK_GRACE_SECONDS", 10),
        # Storage one student can fill: per assignment, at most this many stored uploads or this many MB
        # (whichever comes first; deleted or pruned drafts no longer count), and this many uploads per user.
        "UPLOAD_QUOTA_VERSIONS": _env_int("LMS_UPLOAD_QUOTA_VERSIONS", 10),
        "UPLOAD_QUOTA_MB": _env_int("LMS_UPLOAD_QUOTA_MB", 200),
        "UPLOAD_LIMIT_PER_USER": os.environ.get("LMS_UPLOAD_LIMIT_PER_USER", "20 per minute"),
        # Replaced drafts never handed in lose their file after this many days (the row stays); 0: never.
        "DRAFT_RETENTION_DAYS": _env_int("LMS_DRAFT_RETENTION_DAYS", 30),
        # Temporary upload files (partial/) older than this are removed by the start-up and periodic sweep.
        "TEMPORARY_UPLOAD_MAX_AGE_MINUTES": _env_int("LMS_TEMPORARY_UPLOAD_MAX_AGE_MINUTES", 60),
        # DOCX, PPTX and ODT are zip files: refused when their entries would unpack past either limit.
        "UPLOAD_MAX_UNPACKED_MB": _env_int("LMS_UPLOAD_MAX_UNPACKED_MB", 300),
        "UPLOAD_MAX_ZIP_RATIO": _env_int("LMS_UPLOAD_MAX_ZIP_RATIO", 100),
        "TRUSTED_PROXIES": _env_int("LMS_TRUSTED_PROXIES", 0),
        "MAIL_SMTP_HOST": os.environ.get("LMS_SMTP_HOST", ""),
        "MAIL_SMTP_PORT": _env_int("LMS_SMTP_PORT", 587),
        "MAIL_SMTP_USER": os.environ.get("LMS_SMTP_USER", ""),
        "MAIL_SMTP_PASSWORD": os.environ.get("LMS_SMTP_PASSWORD", ""),
        "MAIL_SMTP_STARTTLS": _env_bool("LMS_SMTP_STARTTLS", True),
        "MAIL_FROM": os.environ.get("LMS_MAIL_FROM", "no-reply@localhost"),
        # The job queue (lms.jobs): who runs jobs ("auto": a thread of the app on SQLite, `flask lms worker` on
        # PostgreSQL; "thread", "worker", or "manual"), how often an idle runner looks, how long a job's lease lasts
        # before another worker may take it again, and how often and how soon a failing job is retried.
        "JOBS_RUNNER": _jobs_runner(),
        "JOBS_POLL_SECONDS": _env_int("LMS_JOBS_POLL_SECONDS", 2),
        "JOBS_LEASE_SECONDS": _env_int("LMS_JOBS_LEASE_SECONDS", 300),
        "JOBS_MAX_ATTEMPTS": _env_int("LMS_JOBS_MAX_ATTEMPTS", 6),
        "JOBS_RETRY_BASE_SECONDS": _env_int("LMS_JOBS_RETRY_BASE_SECONDS", 30),
        # Webhooks (lms.webhooks): loopback and private addresses refused as endpoints unless this is on (the
        # default outside production, for development and the tests); how long one delivery attempt may take.
        "WEBHOOKS_ALLOW_PRIVATE": _env_bool("LMS_WEBHOOKS_ALLOW_PRIVATE", not production),
        "WEBHOOKS_TIMEOUT_SECONDS": _env_int("LMS_WEBHOOKS_TIMEOUT_SECONDS", 5),
        # A PEM file of the certificate authorities webhook endpoints' TLS certificates are checked against
        # (an internal CA); unset: the usual public ones (certifi's bundle, as httpx ships it).
        "WEBHOOKS_CA_FILE": os.environ.get("LMS_WEBHOOKS_CA_FILE", "").strip(),
        # Notifications: due-date reminders and expiry notices, days ahead (comma-separated).
        "NOTIFY_HANDBOOK_DUE_DAYS": _env_days("LMS_NOTIFY_HANDBOOK_DUE_DAYS", (3, 1)),
        "NOTIFY_CERTIFICATE_EXPIRY_DAYS": _env_days("LMS_NOTIFY_CERTIFICATE_EXPIRY_DAYS", (60, 14)),
        "COURSES_DIR": os.environ.get("LMS_COURSES_DIR", ""),
        "QUIZZES_DIR": os.environ.get("LMS_QUIZZES_DIR", ""),
        # Single sign-on with the organization's OpenID Connect provider (lms.sso; README "Single sign-on").
        **_oidc_settings(production),
    }
