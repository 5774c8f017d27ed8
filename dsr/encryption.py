"""Encryption at rest (Fernet): TOTP secrets now, export bundles later.

Keys come from DSR_ENCRYPTION_KEYS (comma-separated, newest first, so old data stays readable
after rotation); without it a key is derived from the secret key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class Cipher:
    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._keys = list(keys)

    @classmethod
    def from_config(cls, config: dict) -> Cipher:
        configured = config.get("DSR_ENCRYPTION_KEYS")
        if configured:
            return cls([key.strip().encode() for key in configured.split(",") if key.strip()])
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"dsr-desk", info=b"encryption-at-rest").derive(
            config["SECRET_KEY"].encode()
        )
        return cls([base64.urlsafe_b64encode(derived)])

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        """Raises InvalidToken when the data was altered or the key is gone."""
        return self._fernet.decrypt(token)

    def encrypt_text(self, text: str) -> str:
        return self.encrypt(text.encode()).decode()

    def decrypt_text(self, token: str) -> str:
        return self.decrypt(token.encode()).decode()

    def file_keys(self) -> list[bytes]:
        """32-byte keys, newest first, for files too big for Fernet (dsr.encrypted_files streams them)."""
        return [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=b"dsr-desk", info=b"streamed-files").derive(
                base64.urlsafe_b64decode(key)
            )
            for key in self._keys
        ]


def derived_key(config: dict, purpose: str) -> bytes:
    """A stable 32-byte key for one use (hashing identifiers…), derived from the secret key unless
    an explicit DSR_<PURPOSE>_KEY is configured (do that when the secret key may be rotated)."""
    explicit = config.get(f"DSR_{purpose.upper()}_KEY")
    if explicit:
        return hashlib.sha256(explicit.encode()).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"dsr-desk", info=purpose.encode()).derive(
        config["SECRET_KEY"].encode()
    )


def current_cipher() -> Cipher:
    return current_app.extensions["dsr_cipher"]


__all__ = ["Cipher", "InvalidToken", "current_cipher"]
