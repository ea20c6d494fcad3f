"""Field encryption at rest (AES-256-GCM) and keyed lookup hashes (HMAC-SHA-256).

Ciphertext layout: 1 version byte, 12-byte random nonce, GCM ciphertext+tag. The
version byte lets a later key rotation tell old rows from new ones."""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.infra.settings import get_settings

_VERSION = b"\x01"


class CryptoConfigError(RuntimeError):
    pass


def _field_key() -> bytes:
    secret = get_settings().field_encryption_key
    if secret is None:
        raise CryptoConfigError("FIELD_ENCRYPTION_KEY is not configured")
    key = base64.b64decode(secret.get_secret_value())
    if len(key) != 32:
        raise CryptoConfigError("FIELD_ENCRYPTION_KEY must be base64 of 32 bytes")
    return key


def _lookup_key() -> bytes:
    secret = get_settings().lookup_hash_key
    if secret is None:
        raise CryptoConfigError("LOOKUP_HASH_KEY is not configured")
    return secret.get_secret_value().encode()


def encrypt(plaintext: str, *, context: str) -> bytes:
    """Encrypt a field value; `context` (e.g. "accounts.account_number") is bound as AAD
    so a ciphertext copied into another column does not decrypt."""
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(_field_key()).encrypt(nonce, plaintext.encode(), context.encode())


def decrypt(blob: bytes, *, context: str) -> str:
    blob = bytes(blob)
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(_field_key()).decrypt(blob[1:13], blob[13:], context.encode()).decode()


def lookup_hash(value: str) -> str:
    """Deterministic keyed hash for equality lookups on encrypted fields."""
    return hmac.new(_lookup_key(), value.encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy token (refresh, reset, verification): what we store."""
    return hashlib.sha256(token.encode()).hexdigest()
