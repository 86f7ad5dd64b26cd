"""Pseudonymous client codes: random, unguessable, derived from nothing.

Why codes and not names, and the numbers: docs/decisions.md, "Pseudonymous client codes".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

# No 0/O, 1/I/L: codes are read aloud and typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
HALF = 4


def new_client_code(choice: Callable[[Sequence[str]], str] = secrets.choice) -> str:
    """e.g. ``K7RX-2QMP``: about 40 random bits. Only demo data passes a seeded ``choice``."""
    chars = [choice(ALPHABET) for _ in range(2 * HALF)]
    return "".join(chars[:HALF]) + "-" + "".join(chars[HALF:])


def code_as_typed(typed: str) -> str:
    """A code or part of one as someone typed it, for matching against codes without their
    hyphen: ``" gaz6-74vs"`` and ``"gaz674vs"`` are both ``GAZ674VS``."""
    return typed.strip().upper().replace("-", "")
