#!/usr/bin/env python3
"""Interrupted runs resume exactly, through the CLI.

copy_task_tiny with dropout on (so the random state matters) is trained three
times: once without interruption; once SIGKILLed mid-epoch after a scheduled
save (train.save_every) and resumed with --resume; once stopped by SIGINT,
which must exit 130 with a checkpoint and a resume command, and resumed with
that command. The interrupted runs must end with final weights bit-identical to
the uninterrupted run's (compared as safetensors exports), and with a
metrics.jsonl holding each step once, with the same losses, learning rates and
validation figures. SIGTERM must exit 143 likewise; resuming a finished run
must say so, exit 0 and write nothing.

Usage: resume_exact.py --bin build/torchzoo [--work DIR]
"""
import argparse
import hashlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile

import cli_runs
from cli_runs import ROOT, export_weights, records, wait_for_record

CONFIG = "configs/copy_task_tiny.yaml"
# Dropout on; 8 epochs of 20 batches; a scheduled save every 7 steps lands mid-epoch (step 7 is batch 7).
SETTINGS = ["model.dropout=0.1", "model.attention_dropout=0.1", "train.epochs=8", "train.log_every=1",
            "train.save_every=7", "scheduler.total_steps=160"]
# Fields of metrics.jsonl that an interrupted run must reproduce exactly (timing fields differ).
COMPARED = ("event", "epoch", "step", "loss", "lr", "grad_norm", "train_loss", "batch")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def command(binary, out, extra=()):
    args = [binary, "train", CONFIG, "--out", out]
    for setting in SETTINGS:
        args += ["--set", setting]
    return args + list(extra)


def run(args, **kwargs):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, **kwargs)


def comparable(out):
    """The metrics records that do not depend on interruptions, with the fields that must agree."""
    return cli_runs.comparable(out, COMPARED)


def weights_digest(binary, out, work, name):
    """A digest of every tensor's name, dtype, shape and bytes, read from a safetensors export."""
    tensors, stderr = export_weights(binary, out, os.path.join(work, name + ".safetensors"))
    check(tensors is not None, f"export of {out} failed: {stderr}")
    digest = hashlib.sha256()
    for key in sorted(tensors or {}):  # the metadata (the config, with its out_dir) is left out
        digest.update(f"{key} {tensors[key].dtype} {tensors[key].shape}".encode())
        digest.update(tensors[key].tobytes())
    return digest.hexdigest()


def start(args):
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_save(out, process, minimum_step):
    """A scheduled save at or after `minimum_step`."""
    return wait_for_record(out, [process], lambda r: r["event"] == "save" and r["step"] >= minimum_step)


def wait_for_step(out, process, step):
    return wait_for_record(out, [process], lambda r: r.get("step", 0) >= step) is not None


def interrupt(binary, out, step, sig, code):
    """Trains into `out`, sends `sig` once step `step` is logged, checks the exit code; returns stdout."""
    name = signal.Signals(sig).name
    process = start(command(binary, out))
    check(wait_for_step(out, process, step), f"the {name} run ended before step {step}")
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=300)
    check(process.returncode == code, f"{name}: exit code {process.returncode}, expected {code}; {stderr[-1000:]}")
    check(f"interrupted by {name}" in stdout, f"{name} output: {stdout}")
    return stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_resume_")

    # 1. Uninterrupted.
    straight = os.path.join(work, "straight")
    result = run(command(binary, straight))
    check(result.returncode == 0, f"uninterrupted run failed: {result.stderr[-2000:]}")
    reference_weights = weights_digest(binary, straight, work, "straight")
    reference_metrics = comparable(straight)
    steps = [r["step"] for r in records(straight) if r["event"] == "step"]
    check(steps == list(range(1, 161)), f"the uninterrupted run logged steps {steps[:5]}...{steps[-5:]}")

    # 2. SIGKILL after a scheduled save within an epoch, then --resume.
    killed = os.path.join(work, "killed")
    process = start(command(binary, killed))
    save = wait_for_save(killed, process, minimum_step=40)
    check(save is not None, "no scheduled save was logged before the run ended")
    process.send_signal(signal.SIGKILL)
    process.communicate()
    check(process.returncode == -signal.SIGKILL, f"the run was not killed mid-way (exit {process.returncode})")
    if save is not None:
        check(0 < save["batch"] < 20, f"the save used was not within an epoch: {save}")
    result = run(command(binary, killed, ["--resume", os.path.join(killed, "checkpoint.pt")]))
    check(result.returncode == 0, f"resume after kill -9 failed: {result.stderr[-2000:]}")
    check("resumed from" in result.stderr, f"no 'resumed from' line: {result.stderr[-500:]}")
    check(weights_digest(binary, killed, work, "killed") == reference_weights,
          "after kill -9 and --resume the final weights differ from the uninterrupted run's")
    check(comparable(killed) == reference_metrics,
          "after kill -9 and --resume metrics.jsonl differs from the uninterrupted run's (each step once, same values)")
    leftovers = [name for name in os.listdir(killed) if ".tmp-" in name]
    check(not leftovers, f"temporary files left behind: {leftovers}")

    # 3. SIGINT: finishes the step, saves, prints the resume command, exits 130; the command resumes exactly.
    interrupted = os.path.join(work, "sigint")
    stdout = interrupt(binary, interrupted, 30, signal.SIGINT, 130)
    check("resume with:" in stdout, f"SIGINT output: {stdout}")
    check(os.path.exists(os.path.join(interrupted, "checkpoint.pt")), "SIGINT: no checkpoint.pt")
    resume_line = [line for line in stdout.splitlines() if line.startswith("resume with: ")]
    if resume_line:
        words = shlex.split(resume_line[0][len("resume with: "):])
        check(words[0] == "torchzoo", f"the resume command does not start with torchzoo: {words}")
        result = run([binary] + words[1:])
        check(result.returncode == 0, f"the printed resume command failed: {result.stderr[-2000:]}")
        check(weights_digest(binary, interrupted, work, "sigint") == reference_weights,
              "after SIGINT and the printed resume command the final weights differ from the uninterrupted run's")
        check(comparable(interrupted) == reference_metrics, "after SIGINT and resume metrics.jsonl differs")

    # 4. SIGTERM exits 143 with a checkpoint.
    terminated = os.path.join(work, "sigterm")
    interrupt(binary, terminated, 10, signal.SIGTERM, 143)

    # 5. Resuming the finished run: says so, exit 0, writes nothing.
    before = {name: os.path.getmtime(os.path.join(straight, name)) for name in os.listdir(straight)}
    result = run(command(binary, straight, ["--resume", os.path.join(straight, "checkpoint.pt")]))
    check(result.returncode == 0, f"resuming a finished run: exit {result.returncode}: {result.stderr[-1000:]}")
    check("finished" in result.stdout and "nothing to train" in result.stdout, f"finished run: {result.stdout}")
    after = {name: os.path.getmtime(os.path.join(straight, name)) for name in os.listdir(straight)}
    check(before == after, "resuming a finished run changed its folder")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
