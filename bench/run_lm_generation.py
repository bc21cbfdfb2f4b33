#!/usr/bin/env python3
"""Generation speed of `torchzoo generate` with and without the key/value
cache: tokens/s for the same prompt, seed and sampling settings, and whether
the two produce the same text (they must: the cache changes the cost, not
the result).

Each setting runs `torchzoo generate --ignore-eos` (so that every run makes
exactly --max-tokens tokens) --repeats times; the time per token
comes from the difference between a long and a short generation, so model
loading and prompt encoding cancel out.

    python3 bench/run_lm_generation.py --bin build/torchzoo --checkpoint runs/lm_en/best.pt
"""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import busy_cpu_seconds, children_cpu_seconds, cpu_model, load_average  # noqa: E402


def run(args, max_tokens, cache):
    cmd = [args.bin, "generate", "--checkpoint", args.checkpoint, "--prompt", args.prompt, "--device", "cpu",
           "--max-tokens", str(max_tokens), "--top-k", "40", "--seed", "1", "--temperature", "0.8", "--ignore-eos"]
    if not cache:
        cmd.append("--no-cache")
    best, out, other = float("inf"), None, 0.0
    for _ in range(args.repeats):
        busy0, own0, wall0 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        busy1, own1, wall1 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
        if proc.returncode != 0:
            sys.exit(f"run_lm_generation: {' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr}")
        if wall1 - wall0 < best:
            best, out = wall1 - wall0, proc.stdout
            other = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))
    return best, out, other


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/torchzoo")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--prompt", default="To insert a table,")
    parser.add_argument("--short", type=int, default=8)
    parser.add_argument("--long", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"cpu: {cpu_model()} | load average {load_average()[0]:.2f} | prompt {args.prompt!r}, "
          f"top-k 40, temperature 0.8, seed 1; best of {args.repeats}")
    print("| setting | seconds for {0} tokens | seconds for {1} tokens | tokens/s | other cores busy |"
          .format(args.short, args.long))
    print("|---|---:|---:|---:|---:|")
    speeds, texts = {}, {}
    for cache in (False, True):
        label = "cache" if cache else "no cache"
        short, _, _ = run(args, args.short, cache)
        long, text, other = run(args, args.long, cache)
        speeds[label] = (args.long - args.short) / (long - short)
        texts[label] = text
        print(f"| {label} | {short:.2f} | {long:.2f} | {speeds[label]:.1f} | {other:.2f} |", flush=True)
    print(f"the cache speeds generation up {speeds['cache'] / speeds['no cache']:.2f}x; "
          f"outputs {'identical' if texts['cache'] == texts['no cache'] else 'DIFFERENT'}")
    print(f"text: {texts['cache'].strip()[:300]}")


if __name__ == "__main__":
    main()
