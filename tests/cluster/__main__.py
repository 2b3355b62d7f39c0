"""Run the cluster test where a Docker engine answers, else say exactly why it cannot run.

    python -m tests.cluster [pytest options]   # exit 0: passed; pytest's code: failed; 3: no Docker engine
    python -m tests.cluster --report-only      # only say whether it could run here, and why not; exit 0

The test starts ClickHouse Keeper and two ClickHouse 25.8 servers (two shards) with testcontainers,
from deploy/compose/cluster/ (the compose profile's configuration), migrates in cluster mode and
checks sharding, FINAL, the rollups and the SQL pack there. `make test` deselects it (marker ``docker``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cluster.probe import probe_docker

EXIT_NO_DOCKER = 3
ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    report_only = "--report-only" in argv
    status = probe_docker()
    if not status.ok:
        print(f"cluster test (tests/cluster) cannot run: {status.reason}", file=sys.stderr)
        print("start a Docker engine (or set DOCKER_HOST) and run: python -m tests.cluster", file=sys.stderr)
        return 0 if report_only else EXIT_NO_DOCKER
    if report_only:
        print(f"cluster test (tests/cluster) can run here: {status.reason}; run: python -m tests.cluster")
        return 0
    command = [sys.executable, "-m", "pytest", "-m", "docker", "-p", "no:cacheprovider", "tests/cluster", *argv]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
