"""Production: DEBUG off, secrets required, HTTPS everywhere; `manage.py check --deploy` is clean."""

import os

os.environ["DEBUG"] = "0"

from aicmo_site.env import env_bool, env_int  # noqa: E402
from aicmo_site.settings.base import *  # noqa: E402,F403

DEBUG = False
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
# Tests serve their own SNS signing certificate from this origin; production takes SNS hosts only.
GATEWAYS_SNS_TEST_ORIGIN = ""
