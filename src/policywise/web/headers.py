"""Headers every response carries, whether Flask or the /health fast path (web/health.py) serves it."""

from __future__ import annotations

import os

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]


def request_id(given: str) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new random one."""
    if given.isascii() and 0 < len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return os.urandom(16).hex()  # uuid4's format at a quarter of its cost
