"""Tokens and the failed-authentication limiter."""

from __future__ import annotations

from failsafe.auth.tokens import display_prefix, hash_token, looks_like_token, new_token
from failsafe.kit.ratelimit import FailureLimiter


def test_tokens_are_random_prefixed_and_hashed() -> None:
    a, b = new_token(), new_token()
    assert a != b and a.startswith("fs_") and len(a) >= 40
    assert hash_token(a) == hash_token(a) != hash_token(b)
    assert len(hash_token(a)) == 64 and a not in hash_token(a)
    assert display_prefix(a) == a[:9]
    assert looks_like_token(a) and not looks_like_token("short") and not looks_like_token("x" * 500)


def test_limiter_blocks_after_max_failures_and_forgets_after_the_window() -> None:
    now = [1000.0]
    limiter = FailureLimiter(3, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("1.2.3.4") == 0
        limiter.record_failure("1.2.3.4")
    assert limiter.retry_after("1.2.3.4") == 60
    assert limiter.retry_after("5.6.7.8") == 0  # per address
    now[0] += 30
    assert limiter.retry_after("1.2.3.4") == 30
    now[0] += 30.01
    assert limiter.retry_after("1.2.3.4") == 0


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(2, max_clients=100)
    for i in range(1000):
        limiter.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._failures) == 100
