"""Logging never blocks the thread that logs: a process whose stderr nobody reads (a wedged log
collector, a dead parent's pipe) still runs, so no transaction waits on a log write."""

from __future__ import annotations

import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, sys
from workflows.cli.common import configure_logging
configure_logging("INFO")
log = logging.getLogger("yunshang.test")
for i in range(5000):  # about 1 MB: far more than a pipe holds
    log.warning("line %d %s", i, "x" * 200)
print("done", flush=True)
sys.stdout.close()
import time
time.sleep(60)
"""


def test_logging_to_a_pipe_nobody_reads_does_not_block_the_logger() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        try:
            assert proc.stdout is not None
            # stderr is never read: its pipe fills after 64 KiB; a blocking logger never prints
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, "the process blocked on logging"
            assert proc.stdout.readline() == b"done\n"
        finally:
            proc.kill()
