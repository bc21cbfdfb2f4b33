#!/usr/bin/env python3
"""Data-parallel training through the CLI: c10d, Gloo, loopback, 2 processes.

1. Equivalence: copy_task_tiny trained by 2 processes under torchrun (dropout
   off) ends with the weights of 1 process with train.accum_steps 2, which
   trains on the same batches: every tensor within 1e-5 (the largest
   difference is printed), and the logged losses agree.
2. Dropout on (each rank has its own stream): 2 processes still learn to copy.
3. Faults: kill -9 of rank 1 after a save makes rank 0 exit non-zero with an
   error that names it, promptly; the run resumed from that checkpoint by 2
   processes ends bit-identical to an uninterrupted 2-process run, metrics
   included. SIGTERM to rank 0 alone stops both ranks at the same step (143).
   A rank that stops answering (SIGSTOP) makes the other fail within
   train.distributed.timeout_s, not hang.
4. Bad environments: WORLD_SIZE without RANK and the reverse, RANK out of
   range, a port that is not a number, an unreachable MASTER_ADDR (within
   train.distributed.init_timeout_s), a port in use; each a clear error, a
   non-zero exit and no output folder.

Usage: distributed.py --bin build/torchzoo [--work DIR]
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

from cli_runs import ROOT, comparable, export_weights, records, wait_for_record

CONFIG = "configs/copy_task_tiny.yaml"
# One thread per process: two processes share the two cores.
BASE = ["train.threads=1", "train.log_every=1", "scheduler.warmup=10"]
DROPOUT = ["model.dropout=0.1", "model.attention_dropout=0.1"]
# 8 epochs of 20 batches: 10 per rank, 80 steps; scheduled saves every 7 steps land mid-epoch.
FAULTS = BASE + DROPOUT + ["train.epochs=8", "train.save_every=7", "scheduler.total_steps=80"]
COMPARED = ("event", "epoch", "step", "loss", "lr", "grad_norm", "train_loss", "batch")  # what resume must reproduce
DISTRIBUTED_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                         "TORCHELASTIC_USE_AGENT_STORE", "GLOO_SOCKET_IFNAME")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(binary, out, settings, extra=()):
    args = [binary, "train", CONFIG, "--out", out]
    for setting in settings:
        args += ["--set", setting]
    return args + list(extra)


def clean_env(**variables):
    env = {k: v for k, v in os.environ.items() if k not in DISTRIBUTED_VARIABLES}
    env.update({k: str(v) for k, v in variables.items()})
    return env


def run(args, env=None, timeout=600):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else clean_env())


def start_ranks(binary, out, settings, world=2, extra=(), port=None):
    """Starts `world` processes by hand, as any launcher would: the five variables each."""
    port = port or free_port()
    processes = []
    for rank in range(world):
        env = clean_env(RANK=rank, WORLD_SIZE=world, LOCAL_RANK=rank, MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        processes.append(subprocess.Popen(train_args(binary, out, settings, extra), cwd=ROOT, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return processes


def finish(processes, timeout=600):
    """(exit code, stdout, stderr) of each process, in rank order."""
    results = []
    for process in processes:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            stderr += "\n[killed by the test: it hung]"
        results.append((process.returncode, stdout, stderr))
    return results


def torchrun(binary, out, settings, world=2):
    args = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(world),
            "--no-python"] + train_args(binary, out, settings)
    return run(args)


def export(binary, out, work, name):
    tensors, stderr = export_weights(binary, out, os.path.join(work, name + ".safetensors"))
    check(tensors is not None, f"export of {out} failed: {stderr}")
    return tensors or {}


def error_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    return lines[0] if lines else stderr.strip()[-300:]


def equivalence(binary, work):
    two = os.path.join(work, "two")
    one = os.path.join(work, "one")
    settings = BASE + ["train.epochs=4", "scheduler.total_steps=40"]
    result = torchrun(binary, two, settings)
    if not check(result.returncode == 0, f"torchrun with 2 processes failed: {result.stderr[-3000:]}"):
        return
    check("distributed: 2 processes (gloo" in result.stderr, f"no distributed banner: {result.stderr[-1000:]}")
    result = run(train_args(binary, one, settings + ["train.accum_steps=2"]))
    if not check(result.returncode == 0, f"1 process with accum_steps 2 failed: {result.stderr[-3000:]}"):
        return
    a, b = export(binary, two, work, "two"), export(binary, one, work, "one")
    check(sorted(a) == sorted(b), "the two exports hold different tensors")
    largest = max((float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)))) for k in a if k in b),
                  default=float("inf"))
    print(f"equivalence: {len(a)} tensors, largest difference between 2 processes and 1 process with "
          f"accum_steps 2: {largest:.3g}", flush=True)
    check(largest <= 1e-5, f"2 processes and 1 with accum_steps 2 differ by {largest:.3g} (> 1e-5)")

    steps_two = [r for r in records(two) if r["event"] == "step"]
    steps_one = [r for r in records(one) if r["event"] == "step"]
    check(len(steps_two) == len(steps_one) == 40, f"steps logged: {len(steps_two)} and {len(steps_one)}, expected 40")
    for x, y in zip(steps_two, steps_one):
        if not check(abs(x["loss"] - y["loss"]) <= 1e-5 * max(1.0, abs(y["loss"])),
                     f"step {x['step']}: loss {x['loss']} with 2 processes, {y['loss']} with 1"):
            break
    dp = [r for r in records(two) if r["event"] == "data_parallel"]
    check(len(dp) == 1 and dp[0]["world_size"] == 2 and dp[0]["backend"] == "gloo" and dp[0]["gradient_bytes"] > 0,
          f"the data_parallel record: {dp}")
    if dp:
        print(f"all-reduce: {dp[0]['buckets']} bucket(s), {dp[0]['gradient_bytes']} bytes a step, backward "
              f"{dp[0]['backward_compute_us']:.0f} us, communication {dp[0]['backward_comm_us']:.0f} us, "
              f"overlapped {dp[0]['overlap_us']:.0f} us", flush=True)


def dropout_converges(binary, work):
    out = os.path.join(work, "dropout")
    results = finish(start_ranks(binary, out, BASE + DROPOUT + ["train.epochs=30", "scheduler.total_steps=300"]))
    if not check(all(code == 0 for code, _, _ in results), f"dropout run failed: {[r[2][-1500:] for r in results]}"):
        return
    evaluations = [r for r in records(out) if r["event"] == "epoch"]
    last = evaluations[-1] if evaluations else {}
    accuracy = last.get("valid_sequence_accuracy")
    print(f"dropout 0.1, 2 processes: last evaluation {last}", flush=True)
    check(accuracy is not None and accuracy >= 0.9, f"2 processes with dropout did not learn to copy: {last}")
    check(not results[1][1] and "torchzoo train" not in results[1][2], f"rank 1 printed: {results[1]}")


def faults(binary, work):
    # The uninterrupted 2-process run.
    straight = os.path.join(work, "faults_straight")
    results = finish(start_ranks(binary, straight, FAULTS))
    if not check(all(code == 0 for code, _, _ in results), f"2-process run failed: {[r[2][-1500:] for r in results]}"):
        return
    reference = export(binary, straight, work, "faults_straight")
    reference_metrics = comparable(straight, COMPARED)

    # kill -9 of rank 1 after a scheduled save within an epoch: rank 0 fails promptly, with an error naming it.
    killed = os.path.join(work, "faults_killed")
    processes = start_ranks(binary, killed, FAULTS + ["train.distributed.timeout_s=60"])
    save = wait_for_record(killed, processes, lambda r: r["event"] == "save" and r["step"] >= 21)
    check(save is not None and 0 < save["batch"] < 10, f"no scheduled save within an epoch: {save}")
    processes[1].send_signal(signal.SIGKILL)
    killed_at = time.time()
    (code0, _, err0), (code1, _, _) = finish(processes, timeout=120)
    seconds = time.time() - killed_at
    print(f"kill -9 of rank 1: rank 0 exited {code0} after {seconds:.1f} s: {error_line(err0)}",
          flush=True)
    check(code1 == -signal.SIGKILL, f"rank 1 was not killed mid-run (exit {code1})")
    check(code0 not in (0, None) and code0 > 0, f"rank 0 exit code {code0} after its peer died")
    check("rank 0 of 2" in err0 and "[killed by the test" not in err0, f"rank 0's error: {err0[-1500:]}")
    check(seconds < 60, f"rank 0 took {seconds:.0f} s to notice its peer's death")
    check("Traceback" not in err0 and "terminate called" not in err0, f"rank 0 aborted: {err0[-1500:]}")

    within_epoch = os.path.join(work, "within_epoch.pt")
    shutil.copyfile(os.path.join(killed, "checkpoint.pt"), within_epoch)

    # Both resume from rank 0's checkpoint and end as the uninterrupted run did.
    results = finish(start_ranks(binary, killed, FAULTS, extra=["--resume", os.path.join(killed, "checkpoint.pt")]))
    if check(all(code == 0 for code, _, _ in results), f"resume failed: {[r[2][-1500:] for r in results]}"):
        resumed = export(binary, killed, work, "faults_killed")
        check(sorted(resumed) == sorted(reference) and all(np.array_equal(resumed[k], reference[k]) for k in reference),
              "after kill -9 and --resume, 2 processes end with weights that differ from the uninterrupted run's")
        check(comparable(killed, COMPARED) == reference_metrics,
              "after kill -9 and --resume metrics.jsonl differs from the uninterrupted run's")

    # SIGTERM to rank 0 alone: the ranks agree on the step, both exit 143, and the resume ends alike.
    terminated = os.path.join(work, "faults_sigterm")
    processes = start_ranks(binary, terminated, FAULTS)
    check(wait_for_record(terminated, processes, lambda r: r.get("step", 0) >= 30) is not None,
          "the SIGTERM run ended before step 30")
    processes[0].send_signal(signal.SIGTERM)
    results = finish(processes, timeout=120)
    check([code for code, _, _ in results] == [143, 143],
          f"SIGTERM to rank 0: exit codes {[c for c, _, _ in results]}, expected 143 twice; {results[0][2][-800:]}")
    check("interrupted by SIGTERM" in results[0][1], f"rank 0's output: {results[0][1]}")
    results = finish(start_ranks(binary, terminated, FAULTS,
                                 extra=["--resume", os.path.join(terminated, "checkpoint.pt")]))
    if check(all(code == 0 for code, _, _ in results), f"resume after SIGTERM failed: {results[0][2][-1500:]}"):
        resumed = export(binary, terminated, work, "faults_sigterm")
        check(all(np.array_equal(resumed.get(k), reference[k]) for k in reference),
              "after SIGTERM and --resume the final weights differ from the uninterrupted run's")

    # Within an epoch, the checkpoint of 2 processes does not resume with 1.
    result = run(train_args(binary, killed + "_one", FAULTS, ["--resume", within_epoch]))
    check(result.returncode != 0 and "2 processes" in result.stderr,
          f"resuming a 2-process checkpoint within an epoch with 1 process: {result.returncode} {result.stderr[-800:]}")

    # A rank that stops answering: the other gives up after train.distributed.timeout_s.
    stopped = os.path.join(work, "faults_stopped")
    processes = start_ranks(binary, stopped, FAULTS + ["train.distributed.timeout_s=5"])
    check(wait_for_record(stopped, processes, lambda r: r.get("step", 0) >= 5) is not None,
          "the SIGSTOP run ended before step 5")
    processes[1].send_signal(signal.SIGSTOP)
    stopped_at = time.time()
    try:
        _, err0 = processes[0].communicate(timeout=120)
    except subprocess.TimeoutExpired:
        processes[0].kill()
        _, err0 = processes[0].communicate()
        err0 += "[killed by the test: it hung]"
    seconds = time.time() - stopped_at
    processes[1].kill()
    processes[1].communicate()
    print(f"SIGSTOP of rank 1, timeout_s 5: rank 0 exited {processes[0].returncode} after {seconds:.1f} s: "
          f"{error_line(err0)}", flush=True)
    check(processes[0].returncode not in (0, None) and processes[0].returncode > 0,
          f"rank 0 exit code {processes[0].returncode} beside a stopped peer")
    check("rank 0 of 2" in err0 and "hung" not in err0, f"rank 0's error beside a stopped peer: {err0[-1500:]}")
    check(seconds < 60, f"rank 0 waited {seconds:.0f} s for a stopped peer (timeout_s 5)")


def bad_environments(binary, work):
    out = os.path.join(work, "bad_env")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = free_port()
    unreachable = ["--set", "train.distributed.init_timeout_s=3"]
    cases = [
        ("WORLD_SIZE without RANK", dict(WORLD_SIZE=2, MASTER_ADDR="127.0.0.1", MASTER_PORT=port), [],
         "WORLD_SIZE is set but RANK is not"),
        ("RANK without WORLD_SIZE", dict(RANK=0, MASTER_ADDR="127.0.0.1", MASTER_PORT=port), [],
         "RANK is set but WORLD_SIZE is not"),
        ("RANK out of range", dict(RANK=2, WORLD_SIZE=2, MASTER_ADDR="127.0.0.1", MASTER_PORT=port), [],
         "RANK='2': expected an integer in [0, 1]"),
        ("a port that is not a number", dict(RANK=0, WORLD_SIZE=2, MASTER_ADDR="127.0.0.1", MASTER_PORT="29x"), [],
         "MASTER_PORT"),
        ("no MASTER_ADDR", dict(RANK=0, WORLD_SIZE=2, MASTER_PORT=port), [], "MASTER_ADDR"),
        ("an unreachable MASTER_ADDR", dict(RANK=1, WORLD_SIZE=2, MASTER_ADDR="10.255.255.1", MASTER_PORT=port),
         unreachable, "10.255.255.1"),
        ("a port in use", dict(RANK=0, WORLD_SIZE=2, MASTER_ADDR="127.0.0.1", MASTER_PORT=taken.getsockname()[1]),
         [], "in use"),
    ]
    for name, variables, extra, expected in cases:
        started = time.time()
        result = run(train_args(binary, out, BASE, extra), env=clean_env(**variables), timeout=120)
        seconds = time.time() - started
        message = error_line(result.stderr)
        print(f"{name}: exit {result.returncode} after {seconds:.1f} s: {message}", flush=True)
        check(result.returncode not in (0, None) and result.returncode > 0, f"{name}: exit code {result.returncode}")
        check(expected in result.stderr, f"{name}: expected '{expected}' in the error: {result.stderr[-800:]}")
        check("Traceback" not in result.stderr and "terminate called" not in result.stderr,
              f"{name}: aborted: {result.stderr[-800:]}")
        check(seconds < 90, f"{name}: took {seconds:.0f} s")
        check(not os.path.exists(out), f"{name}: left {out} behind")
    taken.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    parser.add_argument("--only", choices=["equivalence", "dropout", "faults", "env"])
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_distributed_")
    parts = {"equivalence": equivalence, "dropout": dropout_converges, "faults": faults, "env": bad_environments}
    for name, part in parts.items():
        if args.only in (None, name):
            started = time.time()
            part(binary, work)
            print(f"[{name}: {time.time() - started:.0f} s]", flush=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
