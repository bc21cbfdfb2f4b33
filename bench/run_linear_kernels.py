#!/usr/bin/env python3
"""The linears of one decoding step, by kernel: why inference goes through oneDNN's packed weights.

    python3 bench/run_linear_kernels.py [--threads 2] [--rows 1,4,32,128]

Times, in PyTorch's own kernels, the 19 linears of one translation_en_de
decoder step (3 layers of q/k/v 256->768, out, src_attn's query and out
256->256, feed-forward 256->1024->256, then the 256->8000 generator), for each
row count (sentences x beams in a batch):
  at::linear      MKL's sgemm on the [out, in] weight, as torch.nn.Linear;
  [in, out]       addmm on the weight stored transposed;
  oneDNN packed   mkldnn::_linear_pointwise on mkldnn::_reorder_linear_weight's
                  blocked weight (layers/detail/packed_linear.h).
Prints microseconds per step (median of 5 rounds) and each kernel's ratio to
at::linear. torchzoo's one-row kernel is C++ only; `translate` measures it.
"""

import argparse
import statistics
import sys
import time

import torch

SHAPES = [(768, 256), (256, 256), (256, 256), (256, 256), (1024, 256), (256, 1024)] * 3 + [(8000, 256)]


def median_us(step, calls=100, rounds=5):
    for _ in range(10):
        step()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default="1,4,32,128")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    weights = [torch.randn(*shape) for shape in SHAPES]
    biases = [torch.randn(shape[0]) for shape in SHAPES]
    transposed = [w.t().contiguous() for w in weights]
    packed = [torch.ops.mkldnn._reorder_linear_weight(w) for w in weights]
    print(f"torch {torch.__version__}, {args.threads} threads; microseconds per decoder step of 19 linears")
    print(f"{'rows':>5} {'at::linear':>11} {'[in, out]':>16} {'oneDNN packed':>20}")
    with torch.inference_mode():
        for rows in [int(r) for r in args.rows.split(",")]:
            xs = [torch.randn(rows, w.shape[1]) for w in weights]
            plain = median_us(lambda: [torch.nn.functional.linear(x, w, b) for x, w, b in zip(xs, weights, biases)])
            flipped = median_us(lambda: [torch.addmm(b, x, w) for x, w, b in zip(xs, transposed, biases)])
            onednn = median_us(lambda: [torch.ops.mkldnn._linear_pointwise(x, p, b, "none", [], "")
                                        for x, p, b in zip(xs, packed, biases)])
            print(f"{rows:5d} {plain:11.0f} {flipped:9.0f} ({plain / flipped:.2f}x) "
                  f"{onednn:12.0f} ({plain / onednn:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
