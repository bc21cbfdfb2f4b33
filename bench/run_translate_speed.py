#!/usr/bin/env python3
"""Decoding speed of `torchzoo translate` on real sentences: greedy with and
without the key/value cache and beam 4, at batch 1 and batch 64.

Each setting translates the same first --sentences lines of a source file
with a trained checkpoint and reports sentences/s (wall time of the whole
command, model loading included, so use a few hundred sentences). It also
checks that the cached and uncached greedy outputs are identical.

    python3 bench/run_translate_speed.py --bin build/torchzoo \
        --checkpoint runs/translation_en_de/averaged.pt \
        --source $(build/torchzoo data dir)/libreoffice-help/en-US-de/test.en-US --sentences 200
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import busy_cpu_seconds, children_cpu_seconds, cpu_model, load_average  # noqa: E402

SETTINGS = [  # label, extra flags
    ("greedy, no cache, batch 1", ["--batch-size", "1", "--no-cache"]),
    ("greedy, cache, batch 1", ["--batch-size", "1"]),
    ("beam 4, cache, batch 1", ["--batch-size", "1", "--beam", "4"]),
    ("greedy, no cache, batch 64", ["--batch-size", "64", "--no-cache"]),
    ("greedy, cache, batch 64", ["--batch-size", "64"]),
    ("beam 4, cache, batch 64", ["--batch-size", "64", "--beam", "4"]),
]


def run(args, flags, source_text):
    cmd = [args.bin, "translate", "--checkpoint", args.checkpoint, "--quiet", "--device", "cpu"] + flags
    busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    proc = subprocess.run(cmd, input=source_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
    if proc.returncode != 0:
        sys.exit(f"run_translate_speed: {' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr}")
    other = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))
    return proc.stdout, wall1 - wall0, other


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/torchzoo")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sentences", type=int, default=200)
    args = parser.parse_args()
    with open(args.source, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f][: args.sentences]
    text = "\n".join(lines) + "\n"
    print(f"cpu: {cpu_model()} | load average {load_average()[0]:.2f} | {len(lines)} sentences of {args.source}")
    outputs = {}
    print(f"| setting | seconds | sentences/s | other cores busy |")
    print(f"|---|---:|---:|---:|")
    speeds = {}
    for label, flags in SETTINGS:
        out, seconds, other = run(args, flags, text)
        outputs[label] = out
        speeds[label] = len(lines) / seconds
        print(f"| {label} | {seconds:.1f} | {speeds[label]:.2f} | {other:.2f} |", flush=True)
    for batch in ("1", "64"):
        cached, uncached = outputs[f"greedy, cache, batch {batch}"], outputs[f"greedy, no cache, batch {batch}"]
        same = sum(a == b for a, b in zip(cached.splitlines(), uncached.splitlines()))
        speedup = speeds[f"greedy, cache, batch {batch}"] / speeds[f"greedy, no cache, batch {batch}"]
        print(f"batch {batch}: the cache speeds greedy decoding up {speedup:.2f}x; "
              f"{same}/{len(lines)} translations identical with and without it")


if __name__ == "__main__":
    main()
