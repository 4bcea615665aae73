"""The Ed25519 keys that sign our Open Badges 3.0 credentials: where they come from, how they are written, rotation.

Keys are kept as a keyring, oldest first, one secret key a line in the Multikey form (`secretKeyMultibase`: base58btc
of the multicodec prefix 0x8026 and the 32-byte seed, so it starts with "z3u2"). The newest signs; every key stays
listed in the issuer's DID document, so credentials signed before a rotation still verify.

Where the keyring is read from, first match wins:
- `LMS_SIGNING_KEY_FILE` (`SIGNING_KEY_FILE`): a keyring file; `lms rotate-signing-key` appends to it;
- `LMS_SIGNING_KEY` (`SIGNING_KEY`): the keys themselves, separated by spaces, commas or new lines;
- in development only, `signing_keys` in the instance folder, generated once (like the development secret key).
In production the app refuses to start without one of the first two.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask, current_app

from lms.config import PRODUCTION

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {char: value for value, char in enumerate(BASE58_ALPHABET)}
ED25519_PUBLIC_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
ED25519_SECRET_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300), as an unsigned varint
DEV_KEYRING_NAME = "signing_keys"
_KEYRING_HEADER = (
    "# Ed25519 keys that sign the Open Badges 3.0 credentials, oldest first; the last one signs.\n"
)


class SigningKeyError(RuntimeError):
    """The signing keys are missing or unreadable: the app must not start (nor sign) with them."""


# --- base58btc multibase ---------------------------------------------------------------------------------------


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: "z" and the Bitcoin base58 of the bytes (each leading zero byte a "1")."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(reversed(digits))


def decode_base58btc(text: str) -> bytes:
    """The bytes of a multibase base58btc string; ValueError when it is not one."""
    if not text.startswith("z"):
        raise ValueError("a base58btc multibase value starts with 'z'")
    body = text[1:]
    number = 0
    for char in body:
        if char not in _BASE58_VALUES:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + _BASE58_VALUES[char]
    zeros = len(body) - len(body.lstrip("1"))
    payload = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + payload


# --- keys --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """One Ed25519 key pair of the keyring, with its public key as a Multikey `publicKeyMultibase` (z6Mk...)."""

    private: Ed25519PrivateKey = field(compare=False, repr=False)  # never printed; keys compare by public key
    public_multibase: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def public_key_multibase(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return encode_base58btc(ED25519_PUBLIC_PREFIX + raw)


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    data = decode_base58btc(text)
    if len(data) != 34 or not data.startswith(ED25519_PUBLIC_PREFIX):
        raise ValueError("not an Ed25519 Multikey public key")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def parse_secret_key(text: str) -> SigningKey:
    """A key from its `secretKeyMultibase` text; ValueError (never showing the text) when it is not one."""
    try:
        data = decode_base58btc(text.strip())
    except ValueError as error:
        raise ValueError("a signing key is not base58btc multibase text") from error
    if len(data) != 34 or not data.startswith(ED25519_SECRET_PREFIX):
        raise ValueError("a signing key is not an Ed25519 Multikey secret key (z3u2...)")
    private = Ed25519PrivateKey.from_private_bytes(data[2:])
    return SigningKey(private, public_key_multibase(private.public_key()))


def new_secret_key_text() -> str:
    """A fresh Ed25519 key, as the keyring writes it (the seed comes from the operating system's CSPRNG)."""
    seed = os.urandom(32)
    Ed25519PrivateKey.from_private_bytes(seed)  # refuse early, should the library ever reject a seed
    return encode_base58btc(ED25519_SECRET_PREFIX + seed)


def read_keyring(text: str) -> tuple[SigningKey, ...]:
    """Every key of a keyring's text, oldest first: one per line (or separated by spaces or commas), # comments."""
    keys = []
    for line in text.splitlines():
        content = line.split("#", 1)[0]
        keys.extend(parse_secret_key(part) for part in re.split(r"[\s,]+", content) if part)
    return tuple(keys)


# --- where the keyring lives -----------------------------------------------------------------------------------


def keyring_path(app: Flask) -> Path | None:
    """The keyring file this app reads (and rotation writes), or None when the keys come from LMS_SIGNING_KEY."""
    configured = str(app.config.get("SIGNING_KEY_FILE") or "").strip()
    if configured:
        return Path(configured)
    if str(app.config.get("SIGNING_KEY") or "").strip():
        return None
    if app.config.get("ENV_NAME") == PRODUCTION:
        raise SigningKeyError(
            "LMS_SIGNING_KEY_FILE or LMS_SIGNING_KEY must be set when LMS_ENV=production "
            "(the keys that sign the Open Badges 3.0 credentials)"
        )
    return Path(app.instance_path) / DEV_KEYRING_NAME


def _create_keyring(path: Path) -> None:
    """Write a keyring with one new key, unless one exists: as with the development secret, each process writes a
    candidate file of its own and os.link, which never overwrites, lets exactly one become the keyring."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(_KEYRING_HEADER + new_secret_key_text() + "\n")
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass  # another process got there first: its keyring is the keyring
    finally:
        candidate.unlink()


def signing_keys(app: Flask | None = None) -> tuple[SigningKey, ...]:
    """The keyring, oldest first (read at each use, so a rotation by another process is seen at once)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    path = keyring_path(app)
    try:
        text = str(app.config.get("SIGNING_KEY") or "") if path is None else path.read_text()
    except OSError as error:
        raise SigningKeyError(f"The signing keyring {path} cannot be read: {error.strerror}") from error
    try:
        keys = read_keyring(text)
    except ValueError as error:
        raise SigningKeyError(
            f"The signing keyring {path or 'LMS_SIGNING_KEY'} is not valid: {error}"
        ) from error
    if not keys:
        raise SigningKeyError(f"The signing keyring {path or 'LMS_SIGNING_KEY'} holds no key")
    return keys


def newest_key(app: Flask | None = None) -> SigningKey:
    """The key that signs from now on: the last of the keyring."""
    return signing_keys(app)[-1]


def ensure_signing_keys(app: Flask) -> None:
    """At start-up: generate the development keyring once; refuse to start without readable keys."""
    path = keyring_path(app)
    if path is not None and not path.exists() and app.config.get("ENV_NAME") != PRODUCTION:
        _create_keyring(path)
    signing_keys(app)


def rotate_signing_key(app: Flask) -> SigningKey:
    """Add a new key at the end of the keyring file (it signs from now on); earlier keys stay, so what they signed
    still verifies. Keys given in LMS_SIGNING_KEY cannot be rotated from here."""
    path = keyring_path(app)
    if path is None:
        raise SigningKeyError(
            "The signing keys come from LMS_SIGNING_KEY: add a key to it by hand, or keep them in the file "
            "named by LMS_SIGNING_KEY_FILE so that this command can add one."
        )
    signing_keys(app)  # refuse to append to a keyring that is not valid already
    line = new_secret_key_text()
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two rotations at once each add their own whole line
        fh.seek(0)
        ends_a_line = fh.read().endswith("\n")
        fh.write(("" if ends_a_line else "\n") + line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return parse_secret_key(line)
