"""Running a benchmark in a fresh process, from a parent that imports nothing heavy: a
child's peak RSS (getrusage, wait4) counts the memory its parent had when it was started,
so the parent must stay small for the figure to be the child's own."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_json(script: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Runs ``python benches/<script> args`` (with ``env`` added to the environment) and
    returns the JSON object of its last line."""
    environment = None if env is None else {**os.environ, **env}
    out = subprocess.run([sys.executable, str(HERE / script), *args],
                         capture_output=True, text=True, check=True, env=environment)  # fmt: skip
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


def measured_in_child(script: str, doc: str, inside) -> tuple[argparse.Namespace, dict]:
    """The command line of a benchmark that measures in a child process: parses
    ``--repeat`` and ``--threads``; in the child (``--in-process FOLDER``) prints the JSON
    of ``inside(folder, repeat, threads)`` and exits; in the parent runs ``script``
    as that child on a new temporary folder (``args.folder``) and returns (args, its
    JSON). ``args.load`` is the load average when the parent started."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--in-process", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(inside(Path(args.in_process), args.repeat, args.threads)))
        sys.exit(0)
    args.load = os.getloadavg()
    args.folder = Path(tempfile.mkdtemp(prefix="attartm-bench-"))
    options = ["--repeat", str(args.repeat), "--threads", str(args.threads)]
    return args, run_json(script, *options, "--in-process", str(args.folder))


def machine(args: argparse.Namespace) -> str:
    """The machine, the threads and the load averages of a run of ``measured_in_child``."""
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), threads={args.threads}; load average "
        f"{args.load[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (a shared "
        "machine: other jobs ran beside this one, so the figures are lower bounds)"
    )
