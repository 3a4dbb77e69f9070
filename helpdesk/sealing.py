"""Secrets kept in the database encrypted at rest with Fernet, under a key from the environment.

Each feature names the config setting holding its key (``SHOP_TOKEN_KEY`` for the shops' OAuth tokens,
``TWO_FACTOR_KEY`` for staff TOTP secrets), so one key can be rotated without touching the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class SealingKeyMissing(RuntimeError):
    """The key setting is empty: nothing can be sealed or unsealed."""


class SealBroken(RuntimeError):
    """A stored value cannot be decrypted with the current key (changed key, or damaged value)."""


def _fernet(key_setting: str) -> Fernet:
    # Imported when a secret is sealed or read: a web process that never does saves ~10 MB.
    from cryptography.fernet import Fernet

    key = current_app.config.get(key_setting) or ""
    if not key:
        raise SealingKeyMissing(key_setting)
    return Fernet(key.encode() if isinstance(key, str) else key)


def is_configured(key_setting: str) -> bool:
    return bool(current_app.config.get(key_setting))


def seal(value: str | None, key_setting: str) -> bytes | None:
    return None if value is None else _fernet(key_setting).encrypt(value.encode())


def unseal(value: bytes | None, key_setting: str) -> str | None:
    if value is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(key_setting).decrypt(value).decode()
    except InvalidToken as exc:
        raise SealBroken(key_setting) from exc
