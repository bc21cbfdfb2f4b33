#!/usr/bin/env python3
"""Golden values for torchzoo's GradScaler (train/grad_scaler.h), from torch.amp.GradScaler.

    python3 tests/reference/grad_scaler_golden.py --out DIR    # write DIR/grad_scaler.pt

One parameter vector p (float32 [P]) is trained with SGD(lr 0.1) for T steps.
At step t the loss is (p * c_t).sum(), so the gradient is c_t: the rows of
input.coefficients [T, P] are chosen so that some steps overflow once scaled
(|c| * scale > float32 max), some hold inf or NaN outright, and runs of good
steps are long enough for the scale to grow (growth_interval 3). Each step is

    scaler.scale(loss).backward(); scaler.step(sgd); scaler.update(); sgd.zero_grad()

with GradScaler("cpu", init_scale=2**10, growth_factor=2, backoff_factor=0.5,
growth_interval=3). Keys (a flat dict str -> Tensor, read with torch::pickle_load):

  input.coefficients  float32 [T, P]
  input.p0            float32 [P]    the parameter before step 0
  options             float64 [4]    init_scale, growth_factor, backoff_factor, growth_interval
  scale               float32 [T]    scaler.get_scale() after each update
  growth_tracker      int32 [T]      the growth tracker after each update
  stepped             bool [T]       whether the optimizer stepped (the parameter changed)
  p                   float32 [T, P] the parameter after each step
"""

import argparse
import os

import torch

STEPS = 16
P = 5
INIT_SCALE = 2.0 ** 10
GROWTH_FACTOR = 2.0
BACKOFF_FACTOR = 0.5
GROWTH_INTERVAL = 3


def coefficients():
    g = torch.Generator().manual_seed(14)
    c = torch.randn(STEPS, P, generator=g) * 0.1
    huge = torch.finfo(torch.float32).max / 4  # finite, but inf once multiplied by the scale
    c[4, 1] = huge                # overflow after scaling: skip, back off
    c[8, 0] = float("inf")        # inf outright
    c[9, 3] = float("nan")        # NaN outright: two skips in a row
    c[14, 4] = huge               # overflow again after growth
    return c


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write grad_scaler.pt into")
    args = parser.parse_args()

    c = coefficients()
    p0 = torch.linspace(-1.0, 1.0, P)
    p = torch.nn.Parameter(p0.clone())
    sgd = torch.optim.SGD([p], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE, growth_factor=GROWTH_FACTOR,
                                  backoff_factor=BACKOFF_FACTOR, growth_interval=GROWTH_INTERVAL)
    scales, trackers, stepped, params = [], [], [], []
    for t in range(STEPS):
        before = p.detach().clone()
        loss = (p * c[t]).sum()
        scaler.scale(loss).backward()
        scaler.step(sgd)
        scaler.update()
        sgd.zero_grad()
        scales.append(scaler.get_scale())
        trackers.append(int(scaler._growth_tracker.item()))
        stepped.append(not torch.equal(before, p.detach()))
        params.append(p.detach().clone())

    # The sequence must exercise every rule, or the test proves little.
    assert any(s > INIT_SCALE for s in scales), scales
    assert sum(not s for s in stepped) == 4, stepped
    golden = {
        "input.coefficients": c.contiguous(),
        "input.p0": p0.contiguous(),
        "options": torch.tensor([INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL], dtype=torch.float64),
        "scale": torch.tensor(scales, dtype=torch.float32),
        "growth_tracker": torch.tensor(trackers, dtype=torch.int32),
        "stepped": torch.tensor(stepped, dtype=torch.bool),
        "p": torch.stack(params).contiguous(),
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "grad_scaler.pt")
    torch.save(golden, path)
    print(f"grad_scaler_golden: {STEPS} steps, scales {scales}, skipped {[t for t, s in enumerate(stepped) if not s]}"
          f" -> {path}")


if __name__ == "__main__":
    main()
