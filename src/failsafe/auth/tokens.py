"""Bearer tokens: high-entropy, recognisable by their `fs_` prefix, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "fs_"  # noqa: S105  (a prefix, not a secret)
# 32 random bytes: 256 bits, far beyond guessing; SHA-256 without a salt is then enough (a salt
# protects low-entropy secrets such as passwords) and lets us look a token up by its hash.
_TOKEN_BYTES = 32
# How much of a token listings show to tell tokens apart: the prefix plus 6 random characters.
DISPLAY_PREFIX_LEN = len(TOKEN_PREFIX) + 6
# Shorter input cannot be a token (ours have 46 characters; a bootstrap token from settings needs
# 16 at least) and longer input is refused before hashing anything large.
MIN_TOKEN_LEN = 16
MAX_TOKEN_LEN = 128


TICKET_PREFIX = "fst_"  # a one-time websocket ticket (failsafe.auth.service.issue_stream_ticket)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_ticket() -> str:
    # As random as a token: a ticket is a bearer credential for its 30 seconds.
    return TICKET_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    return token[:DISPLAY_PREFIX_LEN]


def looks_like_token(token: str) -> bool:
    return MIN_TOKEN_LEN <= len(token) <= MAX_TOKEN_LEN
