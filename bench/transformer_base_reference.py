#!/usr/bin/env python3
"""Python half of torchzoo's base-Transformer training benchmark: the annotated Transformer reference.

Trains the reference's make_model, by default at the paper's base size, for a
fixed number of optimizer steps on a GPU (bf16 autocast) or, with small sizes,
on a CPU:

  make_model(V, V, N, d_model, d_ff, h, dropout=0.1)  (default V 32000, N 6, 512, 2048, 8;
                                                        separate, untied src/tgt vocabularies), train mode
  Adam(lr=3e-4, betas=(0.9, 0.98), eps=1e-9), no schedule
  LabelSmoothing(size=V, padding_idx=0, smoothing=0.1) + SimpleLossCompute (summed, / ntokens)
  --autocast bf16: forward and loss under torch.autocast(device_type, dtype=torch.bfloat16)

Batches are shared with the C++ side (bench/transformer_base_bench.cpp) and use
no RNG: batch k (0-based, counted from the start, warm-up included) holds

  token(b, t) = 4 + (S * 1000003 + k * 7919 + b * 104729 + t * 31337) mod (V - 4)

for src [B, src_len] and tgt [B, tgt_len], whose position 0 is then the start
symbol 1; no padding, so ntokens = B * (tgt_len - 1). On CUDA the batch is
copied from pinned memory with non_blocking=True.

Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
step covers forward, loss, backward, optimizer step and zero_grad between two
torch.cuda.synchronize() calls (on CUDA); making and copying the batch is not
timed.

    python3 bench/transformer_base_reference.py --device cuda --autocast bf16 --steps 20 --warmup-steps 5 --json
    python3 bench/transformer_base_reference.py --batch 4 --src-len 16 --tgt-len 16 --vocab 100 --layers 2 \\
        --d-model 64 --d-ff 128 --heads 4 --steps 2 --warmup-steps 1 --threads 1 --json

prints one JSON object on stdout with the C++ side's keys: impl "python",
device, autocast, steps, warmup_steps, batch, src_len, tgt_len, vocab, layers,
d_model, d_ff, heads, tokens (target tokens over the timed steps), src_tokens,
seconds (timed steps only), tokens_per_s, step_ms_median, final_loss (loss per
token of the last step), parameters, batch_checksum (sum over timed batches of
the float64 sum of src), torch_version, threads, seed.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import annotated_transformer as at  # noqa: E402

PAD = 0
START_SYMBOL = 1
FIRST_TOKEN = 4  # tokens 0..3 are the reference's specials (pad, start, end, unknown)
SMOOTHING = 0.1
MAX_LEN = 5000  # PositionalEncoding's max_len


def batch_tokens(seed, k, rows, cols, vocab):
    """[rows, cols] int64: token(b, t) of batch k (the formula in the module docstring)."""
    m = vocab - FIRST_TOKEN
    base = (seed * 1000003 + k * 7919) % m  # Python integers: exact for any seed
    b = (torch.arange(rows, dtype=torch.long) * 104729).unsqueeze(1)  # [rows, 1]
    t = (torch.arange(cols, dtype=torch.long) * 31337).unsqueeze(0)  # [1, cols]
    return (b + t + base).remainder(m) + FIRST_TOKEN


def to_device(t, device):
    if device.type != "cuda":
        return t
    return t.contiguous().pin_memory().to(device, non_blocking=True)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(text):
    if not re.fullmatch(r"cpu|cuda(:[0-9]+)?", text):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return text


def main():
    parser = argparse.ArgumentParser(description="base-Transformer training benchmark (Python reference)")
    parser.add_argument("--device", type=device_name, default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--autocast", choices=("none", "bf16"), default="none", help="none or bf16")
    parser.add_argument("--batch", type=int, default=200, help="sentences per step")
    parser.add_argument("--src-len", type=int, default=128, help="source tokens per sentence")
    parser.add_argument("--tgt-len", type=int, default=128, help="target tokens per sentence, start symbol included")
    parser.add_argument("--vocab", type=int, default=32000, help="source and target vocabulary (each)")
    parser.add_argument("--layers", type=int, default=6, help="encoder layers, and as many decoder layers")
    parser.add_argument("--d-model", type=int, default=512, help="model width")
    parser.add_argument("--d-ff", type=int, default=2048, help="feed-forward width")
    parser.add_argument("--heads", type=int, default=8, help="attention heads (must divide --d-model)")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=1, help="init seed and batch stream seed")
    parser.add_argument("--json", action="store_true", help="print only a JSON object on stdout")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1 or args.seed < 0:
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1, --seed >= 0")
    if not (1 <= args.batch <= 1 << 20 and 1 <= args.src_len <= MAX_LEN and 2 <= args.tgt_len <= MAX_LEN + 1):
        parser.error(f"need 1 <= --batch <= {1 << 20}, 1 <= --src-len <= {MAX_LEN}, 2 <= --tgt-len <= {MAX_LEN + 1}")
    if not 5 <= args.vocab <= 1 << 31:
        parser.error(f"need 5 <= --vocab <= {1 << 31}")
    if min(args.layers, args.d_model, args.d_ff, args.heads) < 1 or args.d_model % args.heads != 0:
        parser.error("need positive --layers, --d-model, --d-ff and --heads, with --heads dividing --d-model")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"transformer_base_reference: device {args.device!r} requested but CUDA is not available",
              file=sys.stderr)
        return 1

    model = at.make_model(args.vocab, args.vocab, N=args.layers, d_model=args.d_model, d_ff=args.d_ff,
                          h=args.heads, dropout=0.1)
    model.to(device)
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    criterion = at.LabelSmoothing(size=args.vocab, padding_idx=PAD, smoothing=SMOOTHING)
    loss_compute = at.SimpleLossCompute(model.generator, criterion)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, betas=(0.9, 0.98), eps=1e-9)
    autocast_enabled = args.autocast == "bf16"

    step_seconds = []
    tokens = src_tokens = 0
    checksum = 0.0
    last_loss = None
    for k in range(args.warmup_steps + args.steps):
        timed = k >= args.warmup_steps
        src = batch_tokens(args.seed, k, args.batch, args.src_len, args.vocab)  # [B, S]
        full_tgt = batch_tokens(args.seed, k, args.batch, args.tgt_len, args.vocab)  # [B, T]
        full_tgt[:, 0] = START_SYMBOL
        host = at.Batch(src, full_tgt, PAD)  # tgt, tgt_y [B, T - 1]; masks on the CPU
        ntokens = int(host.ntokens)
        src_d = to_device(host.src, device)
        src_mask_d = to_device(host.src_mask, device)  # [B, 1, S]
        tgt_d = to_device(host.tgt, device)
        tgt_y_d = to_device(host.tgt_y, device)
        tgt_mask_d = to_device(host.tgt_mask, device)  # [B, T - 1, T - 1]

        synchronize(device)
        t0 = time.perf_counter()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast_enabled):
            out = model.forward(src_d, tgt_d, src_mask_d, tgt_mask_d)
            _, loss_node = loss_compute(out, tgt_y_d, ntokens)
        loss_node.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        t1 = time.perf_counter()

        if timed:
            step_seconds.append(t1 - t0)
            tokens += ntokens
            src_tokens += src.numel()
            checksum += float(src.sum(dtype=torch.float64))
            last_loss = loss_node.detach()

    seconds = sum(step_seconds)
    result = {
        "impl": "python",
        "device": str(device),
        "autocast": args.autocast,
        "steps": args.steps,
        "warmup_steps": args.warmup_steps,
        "batch": args.batch,
        "src_len": args.src_len,
        "tgt_len": args.tgt_len,
        "vocab": args.vocab,
        "layers": args.layers,
        "d_model": args.d_model,
        "d_ff": args.d_ff,
        "heads": args.heads,
        "tokens": tokens,
        "src_tokens": src_tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds if seconds > 0 else 0.0,
        "step_ms_median": 1e3 * statistics.median(step_seconds),
        "final_loss": float(last_loss),
        "parameters": parameters,
        "batch_checksum": checksum,
        "torch_version": torch.__version__,
        "threads": args.threads,
        "seed": args.seed,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"python ({result['device']}, {args.autocast}): {args.steps} steps ({args.warmup_steps} warm-up), "
              f"{tokens} tokens in {seconds:.3f}s = {result['tokens_per_s']:.1f} tokens/s, median step "
              f"{result['step_ms_median']:.2f} ms, final loss {result['final_loss']:.4f}, {parameters} parameters, "
              f"batch checksum {checksum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
