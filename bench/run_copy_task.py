#!/usr/bin/env python3
"""Runs torchzoo's copy-task benchmark: the Python reference against the C++ build.

    python3 bench/run_copy_task.py --bin build/bench/copy_task_bench \\
        [--steps 60 --warmup-steps 10 --threads 2 --seed 1 --repeats 2] [--json-out FILE]

Each repeat runs, one after the other, bench/copy_task_reference.py ("python"),
copy_task_bench --fused 1 ("cpp"), copy_task_bench --fused 0 ("cpp-math",
the same attention math as the Python reference) and copy_task_bench --fused 1
--linear-kernel onednn ("cpp-onednn": the linears through oneDNN instead of
at::linear's BLAS, layers/linear_kernel.h), each in its own process with the
same steps, threads and seed (--impls picks a subset). Alternating them within
a repeat spreads slow drifts of the machine (other jobs, thermal state) over
all of them.

All runs must report the same batch_checksum and token count (they train on the
very same batches); otherwise the script stops with exit code 1. It prints the
median tokens/s of each implementation over the repeats and the ratios
of each C++ implementation to python (> 1 means C++ is faster). For each run it
also prints how many cores other jobs kept busy meanwhile (from /proc/stat less
the run's own CPU time), so that disturbed runs can be told apart.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model, load_average, run_json  # noqa: E402
IMPLS = ("python", "cpp", "cpp-math", "cpp-onednn")


def command(impl, args):
    common = ["--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps),
              "--threads", str(args.threads), "--seed", str(args.seed), "--device", args.device, "--json"]
    if impl == "python":
        return [sys.executable, args.reference] + common
    kernel = ["--linear-kernel", "onednn"] if impl.endswith("-onednn") else []
    return [args.bin] + common + ["--fused", "0" if impl.startswith("cpp-math") else "1"] + kernel


def run_one(impl, args):
    cmd = command(impl, args)
    result = run_json(cmd, "run_copy_task", impl)
    if result.get("impl") != impl:
        sys.exit(f"run_copy_task: expected impl {impl!r}, got {result.get('impl')!r} from {' '.join(cmd)}")
    return result


def main():
    parser = argparse.ArgumentParser(description="copy-task benchmark: Python reference vs torchzoo C++")
    parser.add_argument("--bin", required=True, help="the copy_task_bench executable")
    parser.add_argument("--reference", default=os.path.join(HERE, "copy_task_reference.py"),
                        help="the Python reference script")
    parser.add_argument("--steps", type=int, default=60, help="timed optimizer steps per run")
    parser.add_argument("--warmup-steps", type=int, default=10, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every run")
    parser.add_argument("--seed", type=int, default=1, help="init seed and batch stream seed")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each implementation")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N, for every run")
    parser.add_argument("--impls", default=",".join(IMPLS),
                        help=f"comma-separated implementations to run, python first (of {', '.join(IMPLS)})")
    parser.add_argument("--json-out", help="also write all runs and the summary to this file")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1 or args.repeats < 1 or args.seed < 0:
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1, --repeats >= 1, --seed >= 0")
    impls = args.impls.split(",")
    if impls[0] != "python" or len(impls) < 2 or len(set(impls)) != len(impls) or not set(impls) <= set(IMPLS):
        parser.error(f"--impls: expected python and then one or more of {', '.join(IMPLS[1:])}, got {args.impls!r}")
    if not os.access(args.bin, os.X_OK):
        parser.error(f"--bin {args.bin!r} is not an executable (build it: ninja -C build copy_task_bench)")

    cpu = cpu_model()
    print(f"cpu: {cpu} ({os.cpu_count()} logical cores), threads {args.threads}, "
          f"steps {args.steps} (+{args.warmup_steps} warm-up), seed {args.seed}, repeats {args.repeats}")
    load_before = load_average()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before), flush=True)

    runs = []
    started = time.time()
    for repeat in range(args.repeats):
        for impl in impls:
            result = run_one(impl, args)
            result["repeat"] = repeat
            runs.append(result)
            print(f"  repeat {repeat} {impl:<10} {result['tokens_per_s']:10.1f} tokens/s  "
                  f"({result['seconds']:.2f}s timed, final loss {result['final_loss']:.4f}, "
                  f"other jobs {result['other_cores']:.2f} cores)", flush=True)
    load_after = load_average()
    print("load average after:  {:.2f} {:.2f} {:.2f}  ({:.0f}s in all)".format(*load_after, time.time() - started))

    checks = {(r["batch_checksum"], r["tokens"]) for r in runs}
    if len(checks) != 1:
        details = "\n".join(f"  {r['impl']} repeat {r['repeat']}: batch_checksum {r['batch_checksum']}, "
                            f"tokens {r['tokens']}" for r in runs)
        sys.exit(f"run_copy_task: FAILED, the implementations did not train on the same batches:\n{details}")
    checksum, tokens = checks.pop()
    print(f"batch checksum {checksum} and {tokens} timed tokens per run: identical in all {len(runs)} runs")

    versions = {r["impl"]: r["torch_version"] for r in runs}
    print(f"torch: python {versions['python']}, libtorch (C++) {versions[impls[1]]}")

    median = {impl: statistics.median(r["tokens_per_s"] for r in runs if r["impl"] == impl) for impl in impls}
    ratios = {f"{impl}/python": median[impl] / median["python"] for impl in impls[1:]}
    print()
    print(f"{'impl':<12}{'tokens/s (median)':>19}   runs")
    for impl in impls:
        each = ", ".join(f"{r['tokens_per_s']:.1f}" for r in runs if r["impl"] == impl)
        print(f"{impl:<12}{median[impl]:>19.1f}   {each}")
    busiest = max(r["other_cores"] for r in runs)
    if busiest > 0.1:
        print(f"warning: other jobs kept up to {busiest:.2f} cores busy during a run; the figures are disturbed")
    for name, value in ratios.items():
        print(f"{name:<20}{value:>6.3f}x")

    if args.json_out:
        summary = {
            "cpu": cpu,
            "logical_cores": os.cpu_count(),
            "threads": args.threads,
            "steps": args.steps,
            "warmup_steps": args.warmup_steps,
            "seed": args.seed,
            "repeats": args.repeats,
            "torch_version": versions,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "batch_checksum": checksum,
            "tokens_per_s_median": median,
            "ratios": ratios,
            "runs": runs,
        }
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
