"""Test settings: fast hashing, loopback allowed for contract servers, a file database shared
with real worker processes (an in-memory SQLite database is invisible to a qcluster subprocess)."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", "1")

from aicmo_site.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test process has its own media folder; a worker started by a test is pointed at the test's.
MEDIA_ROOT = Path(  # noqa: F405
    os.environ.get("AICMO_TEST_WORKER_MEDIA_ROOT")
    or Path(tempfile.gettempdir()) / f"aicmo-test-media-{os.getpid()}"  # noqa: F405
)
WHITENOISE_AUTOREFRESH = True

_db = DATABASES["default"]  # noqa: F405
if "AICMO_TEST_WORKER_DATABASE" in os.environ:
    # A worker started by a test connects straight to the database the test run created.
    _db["NAME"] = os.environ["AICMO_TEST_WORKER_DATABASE"]
elif _db["ENGINE"].endswith("sqlite3"):
    _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"aicmo-test-{os.getpid()}.sqlite3")}  # noqa: F405
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "aicmo_site.testing.sqlite3"  # a test database can be a copy of a template (its docstring)
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "aicmo_site.testing.postgresql"  # flushes by DELETE, not TRUNCATE (its docstring says why)

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {  # noqa: F405
    "anon": "10000/minute", "user": "100000/minute", "login": "10000/minute",
}}
# django-q's guard looks at the schedules when its cycles add up to 30 s: a worker started with a cycle of
# 30 s (Q_GUARD_CYCLE) looks on its first cycle, so a test about a schedule need not wait half a minute.
# Such a guard also replaces a dead worker process only every 30 s: not for tests that kill one.
Q_CLUSTER = {**Q_CLUSTER, "poll": 0.1, "workers": int(os.environ.get("Q_WORKERS", "1")),  # noqa: F405
             "guard_cycle": float(os.environ.get("Q_GUARD_CYCLE", "0.5"))}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
