"""``make bench``: every benchmark in turn, then ONE JSON object with all their figures.

Each benchmark prints a human table and ends its standard output with one line of JSON
(see README.md here). This runs them one after the other (never together: they would
measure each other), passes their output through, and ends by printing
``{"benchmarks": {"<name>": <its JSON>, ...}, "failed": [...]}`` on one line, so a later
run can be compared with this one (``--json PATH`` also writes it to a file).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (name, script, extra arguments): the order keeps the heavy upload runs apart.
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("startup", "bench_startup.py", []),
    ("queue", "bench_queue.py", []),
    ("upload", "bench_upload.py", []),
    ("upload_gui", "bench_upload_gui.py", []),
    ("ui", "bench_ui.py", []),
    ("sandbox", "bench_sandbox.py", []),
]


def last_json_line(output: str) -> object | None:
    """The last line of ``output`` that parses as JSON, or ``None``."""
    for line in reversed(output.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated names to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the combined JSON here")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else None
    results: dict[str, object] = {}
    failed: list[str] = []
    for name, script, extra in BENCHMARKS:
        if wanted is not None and name not in wanted:
            continue
        print(f"\n=== {name}: {script} ===", flush=True)
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, str(HERE / script), *extra], capture_output=True, text=True
        )
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr[-4000:])
        figures = last_json_line(run.stdout)
        print(f"({name} took {time.monotonic() - started:.0f} s, exit {run.returncode})")
        if run.returncode != 0 or figures is None:
            failed.append(name)
        results[name] = figures
    combined = json.dumps({"benchmarks": results, "failed": failed}, separators=(",", ":"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(combined + "\n")
    print(combined)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
