#!/usr/bin/env python3
"""Checks torchzoo's exported files in Python, the way a deployment loads them.

    python3 check_export.py --torchscript model.pt --calls calls.pt [--safetensors model.safetensors]

--calls is a file the C++ test wrote with torch::pickle_save: a list of
(method, inputs, expected) tuples, e.g. ("forward", [tokens, mask], hidden),
with the outputs the C++ model computed. Each method of the TorchScript module
(torch.jit.load) must give `expected` within ATOL (floating outputs) or exactly
(token outputs).

With --safetensors, the module's parameters and buffers are first overwritten
with noise, then loaded from that file (strict load_state_dict: the names are
the module's state_dict keys, which are the Python references'), and the calls
are checked again, so the outputs come from the safetensors weights.

Prints one line per call with its error; exits 1 when any call fails.
"""

import argparse
import sys
import warnings

import torch

ATOL = 1e-5

# TorchScript is deprecated upstream from PyTorch 2.11 (torch.jit.load warns once); the files we
# export target the pinned torch 2.13, where loading and running them is supported.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.(load|save)` is deprecated", category=DeprecationWarning)


def run_calls(module, calls, label):
    ok = True
    with torch.no_grad():
        for method, inputs, expected in calls:
            out = getattr(module, method)(*inputs)
            if expected.is_floating_point():
                error = (out - expected).abs().max().item() if out.shape == expected.shape else float("inf")
                passed = error <= ATOL
                detail = f"max abs error {error:.3g}"
            else:
                passed = out.shape == expected.shape and torch.equal(out, expected)
                detail = "tokens equal" if passed else f"tokens differ: {out.tolist()} vs {expected.tolist()}"
            shapes = ", ".join(str(list(x.shape)) for x in inputs if isinstance(x, torch.Tensor))
            print(f"{label} {method}({shapes}): {detail}{'' if passed else '  FAILED'}")
            ok = ok and passed
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torchscript", required=True)
    parser.add_argument("--calls", required=True)
    parser.add_argument("--safetensors")
    args = parser.parse_args()

    module = torch.jit.load(args.torchscript)
    module.eval()
    calls = torch.load(args.calls, weights_only=False)
    ok = run_calls(module, calls, "torchscript")

    if args.safetensors:
        from safetensors.torch import load_file

        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                tensor.copy_(torch.randn_like(tensor) if tensor.is_floating_point() else torch.zeros_like(tensor))
        module.load_state_dict(load_file(args.safetensors), strict=True)
        ok = run_calls(module, calls, "safetensors") and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
