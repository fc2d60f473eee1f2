"""Ed25519 signatures of transfer packages (the `cryptography` package).

Each installation holds one private signing key
(`LOTSE_TRANSFER_SIGNING_KEY`: the base64 of the raw 32-byte Ed25519 key, or
the path of a PEM file) and names itself (`LOTSE_INSTALLATION_NAME`). It
trusts the public keys of the installations it exchanges packages with
(`LOTSE_TRANSFER_TRUSTED_KEYS`: installation name -> base64 of the raw
32-byte public key). `manage.py transfer_key` makes a key pair and prints
the public key and its id for the other side (README "Transfer packages").

A key is named by its id: the first 16 hex digits of the SHA-256 of its raw
public key. The signature covers a fixed context line and the payload's
exact bytes, so neither a changed byte nor a signature of another purpose
passes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

CONTEXT = b"lotse.transfer-package.v1\n"


class KeyNotConfigured(Exception):
    """The installation has no (valid) signing key."""


@dataclass(frozen=True)
class TrustedKey:
    installation: str
    key_id: str
    key: Ed25519PublicKey


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key as the other installation configures it."""
    return base64.b64encode(_raw_public(key)).decode("ascii")


def private_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii")


def key_generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signing_key() -> Ed25519PrivateKey:
    """This installation's private key, from the settings."""
    value = str(getattr(settings, "LOTSE_TRANSFER_SIGNING_KEY", "") or "").strip()
    if not value:
        raise KeyNotConfigured("LOTSE_TRANSFER_SIGNING_KEY is not set")
    try:
        if value.startswith("-----BEGIN") or Path(value).is_file():
            pem = value.encode() if value.startswith("-----BEGIN") else Path(value).read_bytes()
            key = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyNotConfigured("the PEM key is not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True))
    except (OSError, ValueError, TypeError, binascii.Error) as error:
        raise KeyNotConfigured(
            f"LOTSE_TRANSFER_SIGNING_KEY is unusable: {type(error).__name__}"
        ) from None


def installation_name() -> str:
    return str(getattr(settings, "LOTSE_INSTALLATION_NAME", "") or "").strip()


def trusted_keys() -> dict[str, TrustedKey]:
    """The configured public keys of other installations, by key id.

    An entry that is no valid key is left out (and so trusted by nobody)."""
    keys: dict[str, TrustedKey] = {}
    configured = getattr(settings, "LOTSE_TRANSFER_TRUSTED_KEYS", {}) or {}
    for installation, text in configured.items():
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(text), validate=True))
        except (ValueError, TypeError, binascii.Error):
            continue
        keys[key_id_of(key)] = TrustedKey(
            installation=str(installation), key_id=key_id_of(key), key=key
        )
    return keys


def sign(payload: bytes) -> tuple[str, str]:
    """Return (key id, base64 signature) of `payload` with this installation's key."""
    key = signing_key()
    signature = key.sign(CONTEXT + payload)
    return key_id_of(key.public_key()), base64.b64encode(signature).decode("ascii")


def verify(*, payload: bytes, key: Ed25519PublicKey, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), CONTEXT + payload)
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True
