"""Test settings for a qcluster that must read files the test run uploaded.

aicmo_site/settings/test.py puts MEDIA_ROOT in a directory named after the process id, so a
worker process looks elsewhere; this module points it at the test run's directory instead.
(To retire once the shared test settings honour AICMO_TEST_WORKER_MEDIA_ROOT themselves.)
"""

import os
from pathlib import Path

from aicmo_site.settings.test import *  # noqa: F403

MEDIA_ROOT = Path(os.environ["AICMO_TEST_WORKER_MEDIA_ROOT"])
