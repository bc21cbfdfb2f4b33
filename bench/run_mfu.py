#!/usr/bin/env python3
"""Model FLOPs utilisation and a per-op profile of every shipped config, as `torchzoo train` reports them.

    python3 bench/run_mfu.py --bin build/torchzoo [--configs configs/copy_task.yaml,...] \\
        [--steps 30 --log-every 5 --profile-step 12 --autocast none] [--json-out FILE] [--profiles-dir DIR]

For each config, one `torchzoo train` run of --steps optimizer steps (--set
train.max_steps) in a temporary folder, with progress records every --log-every
steps and PyTorch's profiler on step --profile-step (train.profile_step). From
metrics.jsonl it takes the step records after the first one (which holds the
start-up) and prints the median units/s (tokens or images), model FLOP/s and
MFU: the matrix FLOPs the trainer counted in its first step over this machine's
GEMM ceiling (train/gemm_ceiling.h; one 2048^3 product timed in the run's
dtype and threads, cached). From profile.txt it takes the ops with the most
self time. --profiles-dir keeps each run's profile.txt as <config>.txt.

Configs whose data is not prepared are reported as skipped, with the command
that prepares it (the config's own header comment says it).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_common import cpu_model  # noqa: E402

DEFAULT_CONFIGS = ["copy_task", "copy_task_tiny", "translation_tiny", "translation_en_de", "lm_tiny", "lm_en",
                   "langid_tiny", "langid_5", "vit_fashion_mnist_tiny", "vit_fashion_mnist"]
PROFILE_ROW = re.compile(r"^(?P<name>.+?)\s+(?P<self_ms>[0-9.]+)ms\s+(?P<share>[0-9.]+)%"
                         r"\s+[0-9.]+ms\s+[0-9.]+us\s+(?P<calls>\d+)$")


def read_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def top_ops(profile_path, rows):
    ops = []
    with open(profile_path) as f:
        for line in f:
            match = PROFILE_ROW.match(line.rstrip())
            if match:
                ops.append({"name": match["name"], "self_ms": float(match["self_ms"]),
                            "share": float(match["share"]), "calls": int(match["calls"])})
    return ops[:rows]


def run_config(args, config, work):
    out = os.path.join(work, os.path.basename(config).removesuffix(".yaml"))
    cmd = [args.bin, "train", config, "--out", out, "--overwrite", "--autocast", args.autocast,
           "--set", f"train.max_steps={args.steps}", "--set", f"train.log_every={args.log_every}",
           "--set", f"train.profile_step={args.profile_step}", "--set", "train.mfu=true"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        missing = re.search(r"(no such file|not found|does not exist|prepare)", proc.stderr, re.IGNORECASE)
        return {"config": config, "skipped": proc.stderr.strip().splitlines()[-1] if missing else None,
                "error": None if missing else proc.stderr.strip()[-2000:]}
    records = read_records(os.path.join(out, "metrics.jsonl"))
    steps = [r for r in records if r.get("event") == "step" and "mfu" in r]
    if len(steps) < 2:
        return {"config": config, "error": f"fewer than 2 step records with mfu in {out}/metrics.jsonl"}
    unit_key = next(k for k in steps[0] if k.endswith("_per_s") and k != "model_flops_per_s")
    later = steps[1:]
    result = {
        "config": config,
        "unit": unit_key.removesuffix("_per_s"),
        "units_per_s": statistics.median(r[unit_key] for r in later),
        "model_flops_per_s": statistics.median(r["model_flops_per_s"] for r in later),
        "mfu": statistics.median(r["mfu"] for r in later),
        "mfu_range": [min(r["mfu"] for r in later), max(r["mfu"] for r in later)],
        "ops": top_ops(os.path.join(out, "profile.txt"), args.ops),
    }
    if args.profiles_dir:
        os.makedirs(args.profiles_dir, exist_ok=True)
        shutil.copy(os.path.join(out, "profile.txt"),
                    os.path.join(args.profiles_dir, os.path.basename(config).removesuffix(".yaml") + ".txt"))
    return result


def main():
    parser = argparse.ArgumentParser(description="MFU and per-op profiles of torchzoo's configs")
    parser.add_argument("--bin", required=True, help="the torchzoo executable")
    parser.add_argument("--configs", help="comma-separated config files (default: every shipped config)")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    parser.add_argument("--log-every", type=int, default=5, help="steps per progress record")
    parser.add_argument("--profile-step", type=int, default=12, help="the optimizer step profiled")
    parser.add_argument("--autocast", default="none", choices=["auto", "none", "bf16", "fp16"])
    parser.add_argument("--ops", type=int, default=6, help="ops by self time listed per config")
    parser.add_argument("--json-out", help="also write the results to this file")
    parser.add_argument("--profiles-dir", help="keep each run's profile.txt here as <config>.txt")
    args = parser.parse_args()
    if not (1 <= args.profile_step <= args.steps) or args.log_every < 1 or args.steps < 2 * args.log_every:
        parser.error("need 1 <= --profile-step <= --steps and --steps >= 2 * --log-every >= 2")
    configs = args.configs.split(",") if args.configs else [f"configs/{c}.yaml" for c in DEFAULT_CONFIGS]

    print(f"cpu: {cpu_model()} ({os.cpu_count()} logical cores), autocast {args.autocast}, "
          f"{args.steps} steps per config, profile of step {args.profile_step}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="torchzoo_mfu_") as work:
        for config in configs:
            result = run_config(args, config, work)
            results.append(result)
            if result.get("error"):
                print(f"{config}: FAILED\n{result['error']}", flush=True)
            elif result.get("skipped") is not None or "mfu" not in result:
                print(f"{config}: skipped ({result.get('skipped')})", flush=True)
            else:
                ops = ", ".join(f"{o['name']} {o['share']:.0f}%" for o in result["ops"])
                print(f"{config}: {result['units_per_s']:.0f} {result['unit']}/s, "
                      f"{result['model_flops_per_s'] / 1e9:.1f} GFLOP/s, MFU {100 * result['mfu']:.0f}% "
                      f"({100 * result['mfu_range'][0]:.0f}-{100 * result['mfu_range'][1]:.0f}%) | {ops}", flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"cpu": cpu_model(), "autocast": args.autocast, "steps": args.steps, "results": results}, f,
                      indent=2)
            f.write("\n")
        print(f"wrote {args.json_out}")
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
