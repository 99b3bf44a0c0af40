"""Run background job workers, and optionally a command beside them: `make run` and `make worker`.

    python scripts/workers.py --workers 2                      # `make worker`: two workers, restarted if they die
    python scripts/workers.py --workers 1 -- manage.py runserver  # `make run`: the worker lives as long as the server

SIGTERM or SIGINT (Ctrl+C) stops everything: each worker finishes its current job's step as its signal handler
allows (a second signal ends it at once; an unfinished file is rolled back, and the job is taken up again).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="How many worker processes (one job at a time each).")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="A command to run beside them (after --).")
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    worker_command = [sys.executable, str(ROOT / "manage.py"), "worker"]
    workers = [subprocess.Popen(worker_command) for _ in range(max(0, options.workers))]
    main_process = subprocess.Popen(command) if command else None
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        while not stopping:
            if main_process is not None and main_process.poll() is not None:
                code = main_process.returncode
                break
            for index, worker in enumerate(workers):
                if worker.poll() is not None:
                    print(f"worker {worker.pid} exited ({worker.returncode}); starting another", file=sys.stderr)
                    workers[index] = subprocess.Popen(worker_command)
            time.sleep(0.5)
    finally:
        children = [*workers, *([main_process] if main_process is not None else [])]
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return code


if __name__ == "__main__":
    sys.exit(main())
