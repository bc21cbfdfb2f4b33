#!/usr/bin/env python3
"""What a run shows of itself, through the CLI, on copy_task_tiny:

  * train.tensorboard: true writes event files that Python's `tensorboard` package reads
    back (EventAccumulator), with the scalars of metrics.jsonl at their steps;
  * the trainer leaves curves.png in the output folder (a PNG of the size `torchzoo plot`
    draws), and `torchzoo plot` draws two runs overlaid as PNG and SVG;
  * on a terminal (under `script`, a pseudo-terminal) training draws a live progress bar
    redrawn in place (carriage returns, erase-line, percent, rate, time left, loss, lr);
    with stderr redirected it prints plain lines only;
  * `torchzoo info CONFIG --resolved` and `train --dump-config` print the config with every
    default applied, the same text the checkpoint stores as config_resolved, and it trains
    the same run when given back as the config.

Usage: training_views.py --bin build/torchzoo
"""
import argparse
import json
import math
import os
import pathlib
import re
import shlex
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = "configs/copy_task_tiny.yaml"
SHORT = ["--set", "train.epochs=2", "--set", "train.log_every=5", "--set", "scheduler.total_steps=40", "--set", "scheduler.warmup=5",
         "--set", "train.threads=1"]
failures = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def run(args, **kwargs):
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}")
    return done


def png_size(path):
    data = pathlib.Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def tensorboard_checks(bin_path, tmp):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp / "tb"
    run([bin_path, "train", CONFIG, *SHORT, "--set", "train.tensorboard=true", "--out", str(run_dir)])
    events = sorted(run_dir.glob("events.out.tfevents.*"))
    check(len(events) == 1, f"one event file in the run folder ({[e.name for e in events]})")
    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    tags = accumulator.Tags()["scalars"]
    check({"train/loss", "train/lr", "valid/loss", "valid/token_accuracy"} <= set(tags),
          f"tensorboard reads train/loss, train/lr, valid/loss and valid/token_accuracy (tags: {sorted(tags)})")
    records = metrics(run_dir)
    steps = [r for r in records if r["event"] == "step"]
    evals = [r for r in records if r["event"] in ("eval", "epoch")]
    loss = {e.step: e.value for e in accumulator.Scalars("train/loss")}
    check([r["step"] for r in steps] == sorted(loss), f"train/loss at the steps of metrics.jsonl ({sorted(loss)})")
    check(all(math.isclose(loss[r["step"]], r["loss"], rel_tol=1e-6) for r in steps),
          "train/loss values equal metrics.jsonl's (float32)")
    valid = {e.step: e.value for e in accumulator.Scalars("valid/token_accuracy")}
    check(all(math.isclose(valid[r["step"]], r["valid_token_accuracy"], rel_tol=1e-6, abs_tol=1e-7) for r in evals),
          "valid/token_accuracy values equal metrics.jsonl's at each evaluation")

    # The trainer's curves.png: a real PNG, as large as `torchzoo plot` draws four panels (loss, lr, two accuracies).
    size = png_size(run_dir / "curves.png")
    check(size == (1040, 680), f"curves.png is a 1040x680 PNG (got {size})")
    return run_dir


def plot_checks(bin_path, tmp, first):
    second = tmp / "second"
    run([bin_path, "train", CONFIG, *SHORT, "--set", "optimizer.lr=0.003", "--out", str(second)])
    out = run([bin_path, "plot", str(first), str(second), "-o", str(tmp / "both.png")]).stdout
    check("4 panels, 2 runs" in out, f"plot reports its panels and runs ({out.strip()})")
    check(png_size(tmp / "both.png") == (1040, 680), "plot of two runs: a 1040x680 PNG")
    run([bin_path, "plot", str(first), "-o", str(tmp / "one.svg"), "--columns", "3"])
    svg = (tmp / "one.svg").read_text()
    check(svg.lstrip().startswith("<?xml") and "<svg" in svg and 'width="1560' in svg,
          "plot --columns 3 -o one.svg: an SVG three panels wide")
    bad = subprocess.run([bin_path, "plot", str(first), "-o", str(tmp / "x.jpg")], cwd=ROOT, capture_output=True,
                         text=True)
    check(bad.returncode == 2 and "expected a path ending in .png or .svg" in bad.stderr,
          f"plot -o x.jpg is refused (exit {bad.returncode}: {bad.stderr.strip()[:120]})")


def progress_checks(bin_path, tmp):
    run_dir = tmp / "tty"
    command = " ".join(shlex.quote(a) for a in [bin_path, "train", CONFIG, *SHORT, "--out", str(run_dir)])
    # `script` gives the command a pseudo-terminal and copies what it writes there to stdout.
    env = dict(os.environ, COLUMNS="120")
    env.pop("TORCHZOO_PROGRESS", None)
    done = subprocess.run(["script", "-qfec", command, "/dev/null"], cwd=ROOT, capture_output=True, env=env,
                          timeout=600)
    check(done.returncode == 0, f"training under a pseudo-terminal exits 0 ({done.returncode})")
    screen = done.stdout.decode("utf-8")  # bytes as written: text mode would turn each \r into \n
    bars = re.findall(r"\repoch (\d)/2 \|[^\r\n]*\| +(\d+)% (\d+)/20 step \[[0-9:]+<[0-9:?]+, [0-9.]+ (?:step/s|s/step)\]"
                      r"(?: loss [0-9.]+ \|)? lr [0-9.e+-]+\x1b\[K", screen)
    check(len(bars) >= 4, f"the bar is redrawn in place ({len(bars)} redraws matched)")
    check({b[0] for b in bars} == {"1", "2"}, "one bar per epoch")
    check(any(b[1] == "100" and b[2] == "20" for b in bars), "each bar reaches 100% (20/20 steps)")
    check(re.search(r"\r\x1b\[Kepoch 1/2 step 5 \| loss", screen) is not None,
          "progress lines are printed above the bar (erased, printed, redrawn)")

    plain = subprocess.run([bin_path, "train", CONFIG, *SHORT, "--out", str(tmp / "plain")], cwd=ROOT,
                           capture_output=True, text=True, env=env)
    check(plain.returncode == 0 and "\r" not in plain.stderr and "\x1b[" not in plain.stderr,
          "with stderr redirected: no carriage returns or escapes")
    check("epoch 1/2 step 5 | loss" in plain.stderr, "with stderr redirected: the plain progress lines")


def resolved_checks(bin_path, tmp):
    resolved = run([bin_path, "info", CONFIG, "--resolved"]).stdout
    for key in ("label_smoothing", "eps: 1", "log_every: 50", "keep_best:", "clip_grad_norm: 0", "accum_steps: 1",
                "dropout: 0", "tensorboard: false"):
        check(key in resolved, f"info --resolved shows {key!r}")
    dumped = run([bin_path, "train", CONFIG, "--dump-config"]).stdout
    check(dumped == resolved, "train --dump-config prints what info --resolved prints")
    run_dir = tmp / "resolved_run"
    run([bin_path, "train", CONFIG, *SHORT, "--out", str(run_dir)])
    import warnings
    import torch
    warnings.simplefilter("ignore")  # TorchScript's deprecation notice
    checkpoint = torch.jit.load(str(run_dir / "checkpoint.pt"), map_location="cpu")  # an archive of named values
    short_resolved = run([bin_path, "train", CONFIG, *SHORT, "--out", str(run_dir), "--dump-config"]).stdout
    check(getattr(checkpoint, "config_resolved") == short_resolved,
          "the checkpoint's config_resolved is what --dump-config prints for the same command")
    again = tmp / "resolved.yaml"
    again.write_text(resolved)
    resolved_again = run([bin_path, "info", str(again), "--resolved"]).stdout
    check(resolved_again == resolved, "the resolved config resolves to itself")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    bin_path = str(pathlib.Path(args.bin).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        first = tensorboard_checks(bin_path, tmp)
        plot_checks(bin_path, tmp, first)
        progress_checks(bin_path, tmp)
        resolved_checks(bin_path, tmp)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
