"""Running a benchmark in a fresh process, from a parent that imports nothing heavy: a
child's peak RSS (getrusage, wait4) counts the memory its parent had when it was started,
so the parent must stay small for the figure to be the child's own."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_json(script: str, *args: str) -> dict:
    """Runs ``python benches/<script> args`` and returns the JSON object of its last line."""
    out = subprocess.run([sys.executable, str(HERE / script), *args],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def process(command: list[str]) -> tuple[float, float]:
    """The wall time of one run of a command, and the peak RSS (MiB) of its process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            sys.exit(f"{shlex.join(command)} failed:\n{err.read().decode()}")
    return seconds, usage.ru_maxrss / 1024
