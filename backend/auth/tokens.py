"""Opaque bearer tokens: random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def link_token_hash(token: str) -> str:
    """SHA-256 of a rating-link token; the plaintext is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def rating_receipt_id(rating_id: int, secret_key: str) -> str:
    """What the phone is told a rating is called: a keyed hash of its row id, so the
    receipt is stable for retries but reveals nothing about the clinic's volume."""
    digest = hmac.new(secret_key.encode(), f"receipt:{rating_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def access_token_hash(token: str, secret_key: str) -> str:
    """Keyed so that rotating RAPPORT_SECRET_KEY signs everybody out."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()
