#!/usr/bin/env python3
"""The model FLOPs that `torchzoo train` reports equal PyTorch's count.

copy_task_tiny is trained for a few steps with a progress record every step;
each record's model_flops_per_s / tok_per_s is the matrix FLOPs of a step per
target token, which torchzoo counts in the first step (train/flop_counter.h).
The golden value comes from torch.utils.flop_counter.FlopCounterMode around
one training step (forward, loss, backward) of the annotated Transformer
reference of the same shape on a batch of the same shape. MFU must be the
FLOP/s over the GEMM ceiling cached for this machine, and `train.mfu: false`
must leave both fields out.

Usage: model_flops.py --bin build/torchzoo [--work DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import annotated_transformer as at  # noqa: E402

SETTINGS = ["train.epochs=1", "train.log_every=1", "scheduler.warmup=5", "scheduler.total_steps=20",
            "train.threads=1"]


def reference_flops_per_token():
    """copy_task_tiny's shape: 1+1 layers, d_model 64, d_ff 128, 4 heads, vocabulary 11, batch 32 x 10."""
    model = at.make_model(11, 11, N=1, d_model=64, d_ff=128, h=4, dropout=0.0)
    data = torch.randint(1, 11, (32, 10))
    data[:, 0] = 1
    batch = at.Batch(data.clone(), data.clone(), 0)
    criterion = at.LabelSmoothing(size=11, padding_idx=0, smoothing=0.0)
    with FlopCounterMode(display=False) as counter:
        out = model.forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask)
        logits = model.generator(out)
        loss = criterion(logits.contiguous().view(-1, 11), batch.tgt_y.contiguous().view(-1)) / batch.ntokens
        loss.backward()
    return counter.get_total_flops() / int(batch.ntokens)


def train(binary, out, extra, cache):
    args = [binary, "train", "configs/copy_task_tiny.yaml", "--out", out]
    for setting in SETTINGS + extra:
        args += ["--set", setting]
    env = dict(os.environ, TORCHZOO_CACHE_DIR=cache)
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)}: {result.stderr[-2000:]}")
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if '"event": "step"' in line], result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="torchzoo_flops_")
    cache = os.path.join(work, "cache")
    failures = []

    expected = reference_flops_per_token()
    steps, stderr = train(os.path.abspath(args.bin), os.path.join(work, "on"), [], cache)
    with open(os.path.join(cache, "gemm_ceiling.json")) as f:
        ceilings = json.load(f)
    ceiling = next(value for key, value in ceilings.items() if "| cpu | Float | 1 threads |" in key)
    for record in steps:
        counted = record["model_flops_per_s"] / record["tok_per_s"]
        if abs(counted - expected) > 1e-9 * expected:
            failures.append(f"step {record['step']}: {counted} FLOPs a token, PyTorch counts {expected}")
        if abs(record["mfu"] - record["model_flops_per_s"] / ceiling) > 1e-9:
            failures.append(f"step {record['step']}: mfu {record['mfu']}, ceiling {ceiling}")
    if "GFLOP/s, MFU" not in stderr:
        failures.append(f"no MFU on the progress lines: {stderr[-500:]}")
    print(f"{len(steps)} steps: {expected:.0f} FLOPs a target token (PyTorch's count); GEMM ceiling "
          f"{ceiling / 1e9:.1f} GFLOP/s; MFU {steps[-1]['mfu']:.3f} at the last step")

    steps, stderr = train(os.path.abspath(args.bin), os.path.join(work, "off"), ["train.mfu=false"], cache)
    if any("mfu" in record or "model_flops_per_s" in record for record in steps) or "MFU" in stderr:
        failures.append("train.mfu: false still reports MFU")

    for failure in failures[:10]:
        print("FAIL:", failure)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
