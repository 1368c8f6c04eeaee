"""Dashboard passwords: salted scrypt hashes (hashlib, no extra dependency).

The stored text names its parameters (`scrypt$n$r$p$salt$hash`), so they can be
raised later without making old hashes unreadable. Checking takes tens of
milliseconds on purpose (a stolen database resists guessing); callers run it off
the event loop.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 16 MiB of memory and about 50 ms per check on the project's 2-core machines.
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 8
MAX_LENGTH = 256  # a long enough password; longer ones only cost hashing time


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES, maxmem=64 * 1024 * 1024)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`. Without a stored hash a dummy hash is
    still computed, so the answer takes as long for an unknown name as a known one."""
    if len(password) > MAX_LENGTH:
        return False
    if stored is None:
        hash_password(password)
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        found = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected), maxmem=256 * 1024 * 1024
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (one line), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要{MIN_LENGTH}个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过{MAX_LENGTH}个字符"
    if password.strip() != password:
        return "密码首尾不能有空格"
    return None
