#!/usr/bin/env python3
"""Runs torchzoo's ViT training benchmark: the Python reference against the C++ build.

    python3 bench/run_vit.py --bin build/bench/vit_bench \\
        [--steps 30 --warmup-steps 5 --threads 2 --seed 1 --batch 128 --repeats 2 --autocast none,bf16] \\
        [--json-out FILE]

For each autocast mode (--autocast, comma-separated: none, bf16), each repeat
runs, one after the other, bench/vit_reference_bench.py --fused 0 ("python",
the reference's matmul/softmax attention), vit_reference_bench.py --fused 1
("python-fused", F.scaled_dot_product_attention), vit_bench --fused 1 ("cpp",
at::scaled_dot_product_attention) and vit_bench --fused 0 ("cpp-math", the
matmul/softmax attention), each in its own process with the same steps,
threads, seed, batch and autocast mode. Alternating the four within a repeat
spreads slow drifts of the machine (other jobs, thermal state) over all of them.

All runs must report the same image count and, within a relative 1e-6, the same
batch_checksum (they train on the very same batches); otherwise the script
stops with exit code 1. Per autocast mode it prints the median images/s of each
implementation over the repeats and the ratios cpp / python-fused (same
attention kernel) and cpp-math / python (same attention math); > 1 means C++ is
faster. Then a markdown table of the same figures, ready for BENCHMARKS.md. For
each run it also prints how many cores other jobs kept busy meanwhile (from
/proc/stat less the run's own CPU time), so that disturbed runs can be told apart.
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
IMPLS = ("python", "python-fused", "cpp", "cpp-math")
AUTOCAST_MODES = ("none", "bf16")
RATIOS = (("cpp", "python-fused"), ("cpp-math", "python"))
CHECKSUM_RTOL = 1e-6


def command(impl, autocast, args):
    common = ["--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps),
              "--threads", str(args.threads), "--seed", str(args.seed), "--batch", str(args.batch),
              "--autocast", autocast, "--device", args.device, "--json"]
    fused = "1" if impl in ("python-fused", "cpp") else "0"
    if impl.startswith("python"):
        return [sys.executable, args.reference] + common + ["--fused", fused]
    return [args.bin] + common + ["--fused", fused]


def run_one(impl, autocast, args):
    cmd = command(impl, autocast, args)
    result = run_json(cmd, "run_vit", impl)
    if result.get("impl") != impl or result.get("autocast") != autocast:
        sys.exit(f"run_vit: expected impl {impl!r} autocast {autocast!r}, got {result.get('impl')!r} "
                 f"{result.get('autocast')!r} from {' '.join(cmd)}")
    if result.get("images_per_s") is None or result.get("batch_checksum") is None:
        sys.exit(f"run_vit: {impl} reported a non-finite figure: {json.dumps(result)}")
    return result


def check_same_batches(runs):
    """Exits unless every run saw the same number of images and the same batch checksum (relative 1e-6)."""
    reference = runs[0]
    bad = [r for r in runs
           if r["images"] != reference["images"]
           or abs(r["batch_checksum"] - reference["batch_checksum"])
           > CHECKSUM_RTOL * max(1.0, abs(reference["batch_checksum"]))]
    if bad:
        details = "\n".join(f"  {r['impl']} ({r['autocast']}) repeat {r['repeat']}: batch_checksum "
                            f"{r['batch_checksum']!r}, images {r['images']}" for r in runs)
        sys.exit(f"run_vit: FAILED, the implementations did not train on the same batches:\n{details}")
    exact = all(r["batch_checksum"] == reference["batch_checksum"] for r in runs)
    return reference["batch_checksum"], reference["images"], exact


def main():
    parser = argparse.ArgumentParser(description="ViT training benchmark: Python reference vs torchzoo C++")
    parser.add_argument("--bin", required=True, help="the vit_bench executable")
    parser.add_argument("--reference", default=os.path.join(HERE, "vit_reference_bench.py"),
                        help="the Python reference script")
    parser.add_argument("--steps", type=int, default=30, help="timed optimizer steps per run")
    parser.add_argument("--warmup-steps", type=int, default=5, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every run")
    parser.add_argument("--seed", type=int, default=1, help="init seed and batch stream seed")
    parser.add_argument("--batch", type=int, default=128, help="images per step")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N, for every run")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each implementation per autocast mode")
    parser.add_argument("--autocast", default="none,bf16", help="comma-separated autocast modes: none, bf16")
    parser.add_argument("--json-out", help="also write all runs and the summary to this file")
    args = parser.parse_args()
    if (args.steps < 1 or args.warmup_steps < 0 or args.threads < 1 or args.repeats < 1 or args.seed < 0
            or args.batch < 1):
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1, --repeats >= 1, --seed >= 0, "
                     "--batch >= 1")
    modes = [m.strip() for m in args.autocast.split(",") if m.strip()]
    if not modes or any(m not in AUTOCAST_MODES for m in modes) or len(set(modes)) != len(modes):
        parser.error(f"--autocast {args.autocast!r}: want distinct modes out of {', '.join(AUTOCAST_MODES)}")
    if not os.access(args.bin, os.X_OK):
        parser.error(f"--bin {args.bin!r} is not an executable (build it: ninja -C build vit_bench)")

    cpu = cpu_model()
    print(f"cpu: {cpu} ({os.cpu_count()} logical cores), threads {args.threads}, batch {args.batch}, "
          f"steps {args.steps} (+{args.warmup_steps} warm-up), seed {args.seed}, repeats {args.repeats}, "
          f"autocast {', '.join(modes)}")
    load_before = load_average()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before), flush=True)

    runs = []
    started = time.time()
    for mode in modes:
        for repeat in range(args.repeats):
            for impl in IMPLS:
                result = run_one(impl, mode, args)
                result["repeat"] = repeat
                runs.append(result)
                print(f"  {mode:<4} repeat {repeat} {impl:<12} {result['images_per_s']:9.1f} images/s  "
                      f"({result['seconds']:.2f}s timed, final loss {result['final_loss']:.4f}, "
                      f"other jobs {result['other_cores']:.2f} cores)", flush=True)
    elapsed = time.time() - started
    load_after = load_average()
    print("load average after:  {:.2f} {:.2f} {:.2f}  ({:.0f}s in all)".format(*load_after, elapsed))

    checksum, images, exact = check_same_batches(runs)
    print(f"batch checksum {checksum!r} and {images} timed images per run: "
          f"{'identical' if exact else f'equal within {CHECKSUM_RTOL:g} (relative)'} in all {len(runs)} runs")

    versions = {impl: sorted({r["torch_version"] for r in runs if r["impl"] == impl}) for impl in IMPLS}
    python_torch = ", ".join(versions["python"])
    cpp_torch = ", ".join(versions["cpp"])
    print(f"torch: python {python_torch}, libtorch (C++) {cpp_torch}")

    median = {mode: {impl: statistics.median(r["images_per_s"] for r in runs
                                             if r["impl"] == impl and r["autocast"] == mode)
                     for impl in IMPLS}
              for mode in modes}
    ratios = {mode: {f"{a}/{b}": median[mode][a] / median[mode][b] for a, b in RATIOS} for mode in modes}

    for mode in modes:
        print()
        print(f"autocast {mode}")
        print(f"{'impl':<14}{'images/s (median)':>19}   runs")
        for impl in IMPLS:
            each = ", ".join(f"{r['images_per_s']:.1f}" for r in runs if r["impl"] == impl and r["autocast"] == mode)
            print(f"{impl:<14}{median[mode][impl]:>19.1f}   {each}")
        for name, value in ratios[mode].items():
            print(f"{name:<22}{value:>6.3f}x")
    busiest = max(r["other_cores"] for r in runs)
    if busiest > 0.1:
        print(f"\nwarning: other jobs kept up to {busiest:.2f} cores busy during a run; the figures are disturbed")

    # Markdown, ready for BENCHMARKS.md.
    print()
    print(f"Machine: `{cpu}`, {os.cpu_count()} logical cores; torch {python_torch} (Python), "
          f"LibTorch {cpp_torch} (C++); {args.threads} intra-op threads, batch {args.batch}, "
          f"{args.steps} timed steps after {args.warmup_steps} warm-up steps, seed {args.seed}, "
          f"{args.repeats} repeats; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"other jobs up to {busiest:.2f} cores.")
    print()
    print("| autocast | python img/s | python-fused img/s | cpp img/s | cpp-math img/s "
          "| cpp / python-fused | cpp-math / python |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        m, r = median[mode], ratios[mode]
        print(f"| {mode} | {m['python']:.1f} | {m['python-fused']:.1f} | {m['cpp']:.1f} | {m['cpp-math']:.1f} "
              f"| {r['cpp/python-fused']:.2f}x | {r['cpp-math/python']:.2f}x |")

    if args.json_out:
        summary = {
            "cpu": cpu,
            "logical_cores": os.cpu_count(),
            "threads": args.threads,
            "batch": args.batch,
            "steps": args.steps,
            "warmup_steps": args.warmup_steps,
            "seed": args.seed,
            "repeats": args.repeats,
            "autocast": modes,
            "torch_version": {"python": python_torch, "cpp": cpp_torch},
            "load_average_before": load_before,
            "load_average_after": load_after,
            "seconds_in_all": elapsed,
            "batch_checksum": checksum,
            "batch_checksum_identical": exact,
            "images_per_run": images,
            "images_per_s_median": median,
            "ratios": ratios,
            "runs": runs,
        }
        with open(args.json_out, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        print(f"\nwrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
