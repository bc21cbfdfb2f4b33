#!/usr/bin/env python3
"""Data-parallel scaling on this machine: N processes x T/N threads against
1 process x T threads, on the same global batches, torchzoo beside PyTorch's
DistributedDataParallel on the same model (bench/ddp_reference.py).

Each setting trains the same config for the same optimizer steps through
`torchzoo train`: 1 process with T threads and accum_steps N (N micro-batches
a step), and N processes with T/N threads each under torchrun (one
micro-batch each, gradients all-reduced by c10d's Reducer over Gloo). Both
take the same optimizer steps on the same batches. Reported: target tokens/s
of the run (from metrics.jsonl: the tokens of all ranks over rank 0's time,
the first --skip steps left out as warm-up), and for the N-process run what
the Reducer measured per step: the bytes all-reduced, the backward
computation, the communication, and how much of it overlapped backward.
The Python peer trains the annotated Transformer of the same shape, the same
way: 1 process with accumulation, and N processes under torchrun with DDP.

    python3 bench/run_data_parallel.py --bin build/torchzoo            # copy_task_tiny and copy_task
    python3 bench/run_data_parallel.py --bin build/torchzoo --configs configs/copy_task.yaml --threads 2

"other cores" is how many cores everything but these runs kept busy meanwhile
(VM steal time included): a run with a clearly non-zero figure was disturbed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import busy_cpu_seconds, children_cpu_seconds, cpu_model, load_average  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Dropout on as in training; fp32 on every CPU (autocast auto would pick bf16 on AMX machines only).
COMMON = ["train.autocast=none", "train.log_every=1", "train.device=cpu", "train.save_every=0"]
PER_CONFIG = {  # steps kept short: a step of copy_task is ~1.4 s on 2 cores; the model's shape for the peer
    "configs/copy_task_tiny.yaml": (["train.epochs=6"], ["--layers", "1", "--d-model", "64", "--d-ff", "128",
                                                         "--heads", "4", "--batch", "32", "--steps", "50"]),
    "configs/copy_task.yaml": (["train.epochs=2"], ["--layers", "2", "--d-model", "512", "--d-ff", "2048",
                                                    "--heads", "8", "--batch", "80", "--steps", "15"]),
}


def launch(command, processes, threads):
    """Runs `command` in 1 process, or in `processes` under torchrun; returns (stdout, other cores)."""
    if processes > 1:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                   str(processes)] + command
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = str(threads)
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    if result.returncode != 0:
        sys.exit(f"run_data_parallel: {' '.join(command)} failed (exit {result.returncode}):\n{result.stderr}")
    return result.stdout, max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))


def torchzoo(args, config, out, settings, processes, threads):
    command = [args.bin, "train", config, "--out", out]
    for setting in COMMON + PER_CONFIG[config][0] + settings + [f"train.threads={threads}"]:
        command += ["--set", setting]
    if processes > 1:
        command = ["--no-python"] + command
    _, other = launch(command, processes, threads)
    with open(os.path.join(out, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f]
    steps = [r for r in records if r["event"] == "step"]
    return {
        # Tokens over time, as the peer's: the harmonic mean of the per-step rates (steps of equal tokens).
        "tokens_per_s": statistics.harmonic_mean([r["tok_per_s"] for r in steps[args.skip:]]),
        "final_loss": steps[-1]["loss"],
        "data_parallel": next((r for r in records if r["event"] == "data_parallel"), None),
        "other_cores": other,
    }


def python_peer(config, processes, threads, accum):
    command = [os.path.join(ROOT, "bench", "ddp_reference.py")] + PER_CONFIG[config][1] + [
        "--threads", str(threads), "--accum", str(accum)]
    stdout, other = launch(command if processes > 1 else [sys.executable] + command, processes, threads)
    result = json.loads([line for line in stdout.splitlines() if line.strip()][-1])
    result["other_cores"] = other
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/torchzoo")
    parser.add_argument("--configs", nargs="+", default=list(PER_CONFIG))
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="T: the threads of the 1-process run")
    parser.add_argument("--processes", type=int, default=2, help="N")
    parser.add_argument("--skip", type=int, default=3, help="warm-up steps left out of tokens/s")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    n, t = args.processes, args.threads
    if t % n != 0:
        sys.exit(f"run_data_parallel: --threads {t} is not a multiple of --processes {n}")
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_data_parallel_")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average before: {load_average()[0]:.2f}")
    rows = []
    for config in args.configs:
        name = os.path.splitext(os.path.basename(config))[0]
        runs = {"zoo_one": [], "zoo_many": [], "py_one": [], "py_many": []}
        for repeat in range(args.repeats):  # alternated, so that a disturbance hits all alike
            runs["zoo_one"].append(torchzoo(args, config, os.path.join(work, f"{name}_1x{t}_{repeat}"),
                                            [f"train.accum_steps={n}"], 1, t))
            runs["zoo_many"].append(torchzoo(args, config, os.path.join(work, f"{name}_{n}x{t // n}_{repeat}"), [],
                                             n, t // n))
            runs["py_one"].append(python_peer(config, 1, t, n))
            runs["py_many"].append(python_peer(config, n, t // n, 1))
        rate = {key: statistics.median(r["tokens_per_s"] for r in value) for key, value in runs.items()}
        other = max(r["other_cores"] for value in runs.values() for r in value)
        rows.append((name, rate, runs["zoo_many"][-1]["data_parallel"], other))
        print(f"{name}: " + ", ".join(f"{key} {[round(r['tokens_per_s']) for r in value]} tok/s"
                                      for key, value in runs.items()), flush=True)

    print()
    print(f"| config | torchzoo 1 x {t} | torchzoo {n} x {t // n} | scaling | PyTorch 1 x {t} | PyTorch DDP {n} x "
          f"{t // n} | scaling | torchzoo / PyTorch at {n} x {t // n} | other cores |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rate, dp, other in rows:
        print(f"| {name} | {rate['zoo_one']:.0f} | {rate['zoo_many']:.0f} | {rate['zoo_many'] / rate['zoo_one']:.2f}x "
              f"| {rate['py_one']:.0f} | {rate['py_many']:.0f} | {rate['py_many'] / rate['py_one']:.2f}x | "
              f"{rate['zoo_many'] / rate['py_many']:.2f}x | {other:.2f} |")
    print()
    print(f"| config | all-reduced a step | buckets | backward compute | communication | overlapped |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rate, dp, other in rows:
        print(f"| {name} | {dp['gradient_bytes'] / 2**20:.2f} MiB | {dp['buckets']} | "
              f"{dp['backward_compute_us'] / 1000:.1f} ms | {dp['backward_comm_us'] / 1000:.1f} ms | "
              f"{dp['overlap_us'] / 1000:.1f} ms |")


if __name__ == "__main__":
    main()
