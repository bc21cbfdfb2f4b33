#!/usr/bin/env python3
"""Runs the learning tests (Catch tag [learning]) under every kernel path this
CPU supports, with 1 and 2 threads and several training seeds, and prints
whether each held and what it measured.

A learning test trains a small model and asserts what it learned. It must hold
for any trajectory, not the one this machine's float rounding gives: another
kernel path, thread count or seed each gives another trajectory. Its bars
should sit well below the worst figure of this sweep.

  python3 tests/learning_sweep.py --build build                 # every path, threads 1 and 2, seeds: config, 2, 3
  python3 tests/learning_sweep.py --paths avx2 --threads 2 --seeds 0 --json sweep.json

Seed 0 means the config's own seed; N > 0 is passed as Catch's --rng-seed,
which the tests turn into train.seed=N (tests/support/learning.h).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel_paths  # noqa: E402


def run_binary(binary, path, threads, seed, source_dir):
    """One run of `binary "[learning]"`: a list of {test, passed, seconds, info} per test case."""
    env = dict(os.environ)
    for key in {key for variables in kernel_paths.PATHS.values() for key in variables}:
        env.pop(key, None)
    env.update(kernel_paths.PATHS[path])
    env["OMP_NUM_THREADS"] = str(threads)
    command = [str(binary), "[learning]", "-r", "xml", "-s", "-d", "yes"]
    if seed:
        command += ["--rng-seed", str(seed)]
    done = subprocess.run(command, env=env, cwd=source_dir, capture_output=True, text=True)
    try:
        root = ET.fromstring(done.stdout)
    except ET.ParseError:
        return [{"test": binary.name, "passed": False, "seconds": 0.0, "info": ["no XML report: " + done.stderr[-500:]]}]
    cases = []
    for case in root.iter("TestCase"):
        info = []
        for element in case.iter("Info"):
            text = (element.text or "").strip()
            if text and text not in info:
                info.append(text)
        failures = [e for e in case.iter("Expression") if e.get("success") == "false"]
        for failure in failures:
            original = failure.find("Original")
            info.append("FAILED at line {}: {}".format(failure.get("line"), (original.text or "").strip()))
        result = case.find("OverallResult")
        cases.append({
            "test": case.get("name"),
            "passed": result is not None and result.get("success") == "true",
            "seconds": float(result.get("durationInSeconds", 0.0)) if result is not None else 0.0,
            "info": info,
        })
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="the build folder (default: build)")
    parser.add_argument("--binaries", default="test_train,test_cli", help="test executables under BUILD/tests")
    parser.add_argument("--paths", default=",".join(kernel_paths.supported()),
                        help="kernel paths (default: all this CPU supports: %(default)s)")
    parser.add_argument("--threads", default="1,2", help="thread counts (default: %(default)s)")
    parser.add_argument("--seeds", default="0,2,3", help="training seeds, 0 = the config's (default: %(default)s)")
    parser.add_argument("--json", help="also write every result to this file")
    args = parser.parse_args()

    source_dir = Path(__file__).resolve().parent.parent
    build = Path(args.build).resolve()
    paths = args.paths.split(",")
    for path in paths:
        if path not in kernel_paths.supported():
            parser.error(f"--paths: this CPU runs {', '.join(kernel_paths.supported())}; got '{path}'")
    threads = [int(t) for t in args.threads.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    binaries = [build / "tests" / name for name in args.binaries.split(",")]
    for binary in binaries:
        if not binary.exists():
            parser.error(f"{binary} does not exist: build the tests first (make build)")

    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    print(f"CPU: {model}; native kernel path: {kernel_paths.native()}")
    results = []
    started = time.monotonic()
    for binary in binaries:
        for path in paths:
            for thread_count in threads:
                for seed in seeds:
                    for case in run_binary(binary, path, thread_count, seed, source_dir):
                        case.update(path=path, threads=thread_count, seed=seed)
                        results.append(case)
                        status = "ok  " if case["passed"] else "FAIL"
                        measured = [line for line in case["info"] if not line.startswith("took ")]
                        print(f"{status} {path:7} t{thread_count} seed {seed or 'config':6} {case['seconds']:6.1f} s  "
                              f"{case['test'][:60]}\n       {' | '.join(measured)[:400]}", flush=True)

    print(f"\n{len(results)} runs in {time.monotonic() - started:.0f} s")
    by_test = {}
    for case in results:
        by_test.setdefault(case["test"], []).append(case)
    for test, cases in by_test.items():
        failed = [c for c in cases if not c["passed"]]
        slowest = max(c["seconds"] for c in cases)
        print(f"{len(cases) - len(failed):3}/{len(cases)} held, slowest {slowest:.1f} s: {test}")
        for c in failed:
            print(f"      failed on {c['path']} t{c['threads']} seed {c['seed'] or 'config'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(c["passed"] for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
