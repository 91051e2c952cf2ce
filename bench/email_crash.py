"""kill -9 of the email worker at random points of a send, at the issue's full size: 2,000 recipients
and 20 kills, each followed by a restart (the test suite runs 300 and 5). It runs the suite's own test
(publishing/tests/email/test_worker.py) with a real qcluster and aiosmtpd, which checks that no
recipient has two copies, every recipient not marked "outcome unknown" has exactly one, and there is at
most one "outcome unknown" per kill.

    python -m bench email_crash --audience 2000 --kills 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aicmo_bench python -m bench email_crash
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "publishing/tests/email/test_worker.py::test_killing_the_worker_at_random_points_never_duplicates_or_skips"


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_crash", description=__doc__)
    parser.add_argument("--audience", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args(argv)
    env = {**os.environ, "EMAIL_CRASH_AUDIENCE": str(args.audience), "EMAIL_CRASH_KILLS": str(args.kills)}
    print(f"conditions: database={env.get('DATABASE_URL', 'sqlite (test settings)')}, audience={args.audience}, "
          f"kills={args.kills}, cores={os.cpu_count()}")
    return subprocess.call([sys.executable, "-m", "pytest", TEST, "-q", "-s", "-p", "no:cacheprovider"],
                           cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
