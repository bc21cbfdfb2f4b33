#!/usr/bin/env python3
"""torchzoo translate against the same model exported to TorchScript, frozen and optimized for inference.

    python3 bench/run_torchscript_decode.py --bin build/torchzoo --checkpoint runs/translation_en_de/best.pt \\
        --spm .../spm-joint-unigram-8000.model --source .../test.en-US [--sentences 100] [--threads 2]

Issue 17 asked whether a frozen, inference-optimized TorchScript path should stand beside the eager one. This
exports the checkpoint (`torchzoo export`, TorchScript with a greedy_decode method carrying a key/value cache),
then greedily decodes the first --sentences source lines one at a time (batch 1, at most --max-len pieces):

  scripted   torch.jit.load'ed module, greedy_decode as exported;
  frozen     torch.jit.freeze + torch.jit.optimize_for_inference (greedy_decode preserved), which folds the
             parameters into constants and lets the JIT pre-pack linears for oneDNN;
  torchzoo   `torchzoo translate --batch-size 1` (eager C++, packed linears, one-row kernels), its start-up
             (a run on one sentence) subtracted.

Each is timed --repeats times (best counts); sentences/s and each one's ratio to torchzoo are printed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch

from bench_common import cpu_model


def torchzoo_seconds(args, lines, env):
    cmd = [args.bin, "translate", "--checkpoint", args.checkpoint, "--quiet", "--device", "cpu", "--autocast", "none",
           "--batch-size", "1", "--max-len-a", "0", "--max-len-b", str(args.max_len)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{proc.stderr}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description="torchzoo translate vs frozen TorchScript greedy decoding")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--spm", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import sentencepiece as spm

    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    sp = spm.SentencePieceProcessor(model_file=args.spm)
    with open(args.source) as f:
        lines = [line.rstrip("\n") for line in f][: args.sentences]
    sources = [torch.tensor([sp.encode(line) + [sp.eos_id()]]) for line in lines]
    pad, bos, eos = sp.pad_id(), sp.bos_id(), sp.eos_id()
    print(f"cpu: {cpu_model()}, threads {args.threads}, {len(lines)} sentences, torch {torch.__version__}", flush=True)

    with tempfile.TemporaryDirectory(prefix="torchzoo_ts_") as work:
        path = os.path.join(work, "model.pt")
        proc = subprocess.run([args.bin, "export", "--checkpoint", args.checkpoint, "-o", path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"error: torchzoo export failed:\n{proc.stderr}")
        scripted = torch.jit.load(path).eval()
        frozen = torch.jit.optimize_for_inference(
            torch.jit.freeze(torch.jit.load(path).eval(), preserved_attrs=["greedy_decode"]),
            other_methods=["greedy_decode"])

        def decode_seconds(module):
            with torch.inference_mode():
                start = time.perf_counter()
                for src in sources:
                    module.greedy_decode(src, (src != pad).unsqueeze(-2), args.max_len + 1, bos, eos, pad)
                return time.perf_counter() - start

        startup = min(torchzoo_seconds(args, lines[:1], env) for _ in range(args.repeats))
        rates = {}
        for name, module in (("scripted", scripted), ("frozen", frozen)):
            decode_seconds(module)  # the JIT's profiling runs
            rates[name] = len(lines) / min(decode_seconds(module) for _ in range(args.repeats))
        rates["torchzoo"] = len(lines) / max(
            min(torchzoo_seconds(args, lines, env) for _ in range(args.repeats)) - startup, 1e-9)
    for name, rate in rates.items():
        print(f"{name:9s} {rate:7.1f} sent/s   {rate / rates['torchzoo']:.2f}x torchzoo", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
