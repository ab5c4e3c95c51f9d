"""Re-capture the Argo CD health testdata from the real operator, for a person to review.

    python -m tests.e2e.capture_status [pytest arguments, e.g. -k running]

Runs tests/e2e/test_chart_argocd_health.py with a staging directory, then writes what each case
saw into argocd/resource_customizations/berth.dev/<Kind>/ (testdata and health_test.yaml) and
prints the diff's summary. Read `git diff argocd/` before committing: the tests compare the
operator with these files, so whatever is committed here is what they will hold it to.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

import yaml
from tests.unit import argocd_health

TEST = "tests/e2e/test_chart_argocd_health.py"


def main(pytest_args: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="berth-status-") as staging:
        env = {**os.environ, "BERTH_STATUS_STAGING_DIR": staging}
        # The run may fail (the stored files are stale: that is why one captures); what it staged
        # is still what the operator wrote.
        subprocess.run([sys.executable, "-m", "pytest", "-q", TEST, *pytest_args], env=env)
        captured = sorted(pathlib.Path(staging).glob("*/*.yaml"))
        for path in captured:
            loaded = yaml.safe_load(path.read_text())
            health = argocd_health.Health(**loaded["health"])
            argocd_health.write_testdata(path.stem, loaded["object"], health)
    if not captured:
        print("nothing was captured", file=sys.stderr)
        return 1
    print(f"captured {len(captured)} cases; review before committing:")
    subprocess.run(["git", "diff", "--stat", "--", str(argocd_health.CUSTOMIZATIONS)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
