"""Local runtime start-up: how long `talkshop local` takes to answer its first request.

Run: .venv/bin/python bench/startup.py [--runs 3]
Prints, for a fresh data dir (demo catalog imported on the way) and for a restart on the same
data dir (snapshot + journal restored), the seconds from process start to the first 200 from
GET /api/products. The target is under 10 s on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

READY = re.compile(r"running at (http://\S+)")


def time_to_first_answer(data_dir: Path) -> float:
    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "talkshop.cli",
        "local",
        "--port",
        "0",
        "--quiet",
        "--data-dir",
        str(data_dir),
    ]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert server.stdout is not None
        for line in server.stdout:
            found = READY.search(line)
            if found:
                with urllib.request.urlopen(f"{found.group(1)}/api/products?limit=1", timeout=10) as response:
                    assert response.status == 200
                return time.monotonic() - started
        raise RuntimeError("the server exited before it was ready")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    fresh: list[float] = []
    restart: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            fresh.append(time_to_first_answer(Path(directory)))
            restart.append(time_to_first_answer(Path(directory)))
    for label, seconds in (("first start (demo catalog import)", fresh), ("restart (data dir)", restart)):
        print(f"{label:34}: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")


if __name__ == "__main__":
    main()
