"""Password hashing: scrypt through Werkzeug, with parameters chosen for memory as well as strength.

OWASP's Password Storage Cheat Sheet lists scrypt configurations of equal strength that trade memory
for passes: N=2^17, r=8, p=1 (128 MiB) down to N=2^13, r=8, p=10 (8 MiB). We use the last one. Every
sign-in hashes once, so a web process answering several sign-ins at a time needs 8 MiB for each, not
the 32 MiB of Werkzeug's default (N=2^15, r=8, p=1), which is also below OWASP's minimum.
Hashes made with other parameters keep working and are upgraded at the next successful sign-in.

The test suite signs in hundreds of times and sets ``PASSWORD_HASH_METHOD`` to a cheaper scrypt
(the same code, fewer passes). It is not read from the environment: a deployment always uses METHOD.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt:8192:8:10"


def current_method() -> str:
    """Today's parameters: METHOD, unless the app's config (the test suite) names cheaper ones."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD") or METHOD
    return METHOD


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_method())


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True for a hash made with other parameters than today's (it is upgraded at sign-in)."""
    return not password_hash.startswith(f"{current_method()}$")
