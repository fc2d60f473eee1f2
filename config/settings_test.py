"""Test settings: the production module with test knobs only.

The database comes from DATABASE_URL like everywhere else (PostgreSQL in CI,
SQLite by default).
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
SECURE_SSL_REDIRECT = False
LANGUAGE_CODE = "de"
# Tests sign in with force_login; the dedicated tests of two-factor sign-in
# turn it back on (tests/accounts/test_security.py).
LOTSE_REQUIRE_MFA = False
# Many tests of one process share the local cache and client address: the
# API rates are far above production's here; tests/config/test_throttling.py
# sets production's back.
LOTSE_API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min", "token": "100000/min"}
