#!/usr/bin/env python3
"""Runs torchzoo's libFuzzer targets (fuzz/) for a set time each and reports what they did.

For each target: first every input in tests/fuzz/regressions/<target>/ once (inputs
that crashed a reader before, kept so the fix stays), then fuzzing for --seconds from
the seed corpus tests/fuzz/corpus/<target>/ plus the corpus earlier runs grew under
--work. A finding is any crash, sanitizer report, hang (-timeout), over-large
allocation or unclear error (fuzz/fuzz_support.h); libFuzzer saves the input under
<work>/artifacts/<target>/ and this script exits 1 naming it. A finding is fixed, then
its input goes to tests/fuzz/regressions/<target>/ and a case to tests/cli/bad_input.py.

  make fuzz                                 # every target, FUZZ_SECONDS (300) each
  python3 tests/fuzz/run_fuzz.py --bin-dir build-sanitize/fuzz --seconds 60 png idx
"""
import argparse
import base64
import json
import pathlib
import re
import shutil
import subprocess
import sys
import time

SOURCE = pathlib.Path(__file__).resolve().parents[2]
TARGETS = ["config", "idx", "png", "safetensors", "text", "checkpoint", "bleu"]


def inputs_in(folder):
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def last_match(pattern, text, default=None):
    found = re.findall(pattern, text)
    return found[-1] if found else default


def run_target(name, args):
    binary = pathlib.Path(args.bin_dir) / f"{name}_fuzzer"
    if not binary.exists():
        sys.exit(f"run_fuzz: {binary} does not exist (build it: cmake --build build-sanitize --target fuzz_targets)")
    work = pathlib.Path(args.work)
    corpus = work / "corpus" / name
    artifacts = work / "artifacts" / name
    if args.runs:  # a repeatable run starts from the seeds alone, not from what earlier runs grew
        shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    log_path = work / f"{name}.log"
    common = [f"-artifact_prefix={artifacts}/", f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_limit_mb}"]
    result = {"target": name, "regressions": 0, "executions": 0, "seconds": 0.0, "findings": []}

    with open(log_path, "w") as log:
        regressions = inputs_in(SOURCE / "tests" / "fuzz" / "regressions" / name)
        if regressions:
            done = subprocess.run([str(binary), *common, *map(str, regressions)], stdout=log, stderr=subprocess.STDOUT)
            result["regressions"] = len(regressions)
            if done.returncode != 0:
                result["findings"].append(f"a regression input fails again (see {log_path})")
        seeds = SOURCE / "tests" / "fuzz" / "corpus" / name
        dictionary = SOURCE / "tests" / "fuzz" / f"{name}.dict"
        # A fixed seed and a bounded number of runs (ctest) make a run bounded and, for one build,
        # repeatable (another build's coverage steers the mutations elsewhere; a finding's input is
        # printed below, to be replayed anywhere). Without --runs: random, for --seconds.
        budget = [f"-seed={args.seed}", f"-runs={args.runs}"] if args.runs else [f"-max_total_time={args.seconds}"]
        command = [str(binary), *common, *budget, "-print_final_stats=1"]
        if dictionary.exists():
            command.append(f"-dict={dictionary}")
        command += [str(corpus), str(seeds)]
        before = set(inputs_in(artifacts))
        start = time.monotonic()
        # A hang libFuzzer's own -timeout misses (e.g. in its start-up) still ends here.
        try:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=args.seconds + 300)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = "hang"
        result["seconds"] = round(time.monotonic() - start, 1)
    text = log_path.read_text(errors="replace")
    result["executions"] = int(last_match(r"stat::number_of_executed_units: (\d+)", text, 0))
    result["peak_rss_mb"] = int(last_match(r"stat::peak_rss_mb: (\d+)", text, 0))
    result["coverage"] = int(last_match(r"\bcov: (\d+)", text, 0))
    result["corpus"] = len(inputs_in(corpus))
    new_artifacts = [p for p in inputs_in(artifacts) if p not in before]
    if code != 0 or new_artifacts:
        # Our own verdict first (fuzz_support's "finding: ..."), then a sanitizer's, then libFuzzer's.
        reason = (last_match(r"(finding: .*)", text) or last_match(r"(ERROR: (?!libFuzzer).*)", text)
                  or last_match(r"(SUMMARY: .*)", text, f"exit {code}"))
        saved = ", ".join(str(p) for p in new_artifacts) or "no input saved"
        result["findings"].append(f"{reason} ({saved}; log {log_path})")
        # The input itself, so that a finding on another machine (CI) can be replayed here.
        for artifact in new_artifacts[:1]:
            data = artifact.read_bytes()
            result["findings"].append(f"input ({len(data)} bytes, base64): "
                                      + base64.b64encode(data[:8192]).decode())
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help=f"targets to run (default: all of {', '.join(TARGETS)})")
    parser.add_argument("--bin-dir", required=True, help="the folder of the *_fuzzer executables")
    parser.add_argument("--work", default="build-sanitize/fuzz-work", help="grown corpora, crash inputs, logs")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    parser.add_argument("--runs", type=int, default=0,
                        help="inputs to run with --seed instead of fuzzing for --seconds (repeatable; 0: by time)")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed with --runs")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take before it is a hang")
    parser.add_argument("--rss-limit-mb", type=int, default=4096, help="memory a target may use")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    targets = args.targets or TARGETS
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; targets: {', '.join(TARGETS)}")

    results = []
    print(f"{'target':<12} {'seconds':>8} {'executions':>11} {'exec/s':>8} {'corpus':>7} {'coverage':>9}  findings")
    for name in targets:
        r = run_target(name, args)
        results.append(r)
        rate = r["executions"] / r["seconds"] if r["seconds"] else 0
        findings = "\n  ".join(r["findings"]) or "none"
        print(f"{name:<12} {r['seconds']:>8.1f} {r['executions']:>11,} {rate:>8,.0f} {r['corpus']:>7} "
              f"{r['coverage']:>9}  {findings}", flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    failed = [r["target"] for r in results if r["findings"]]
    if failed:
        print(f"run_fuzz: findings in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
