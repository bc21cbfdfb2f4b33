#!/usr/bin/env python3
"""Python half of torchzoo's copy-task benchmark: the annotated Transformer reference.

Trains the reference copy-task model exactly as "The Annotated Transformer"
(2022) does in example_simple_model, for a fixed number of optimizer steps:

  make_model(11, 11, N=2)  (d_model 512, d_ff 2048, h 8, dropout 0.1), train mode
  Adam(lr=0.5, betas=(0.9, 0.98), eps=1e-9)
  LambdaLR(rate(step, 512, factor=1.0, warmup=400))
  LabelSmoothing(size=11, padding_idx=0, smoothing=0.0) + SimpleLossCompute
  batch 80, sequence length 10, Batch(src, tgt, pad=0)

Batches are shared with the C++ side: batch number k (0-based, counted from the
start of training, warm-up included) is

  g = torch.Generator().manual_seed(S * 1000003 + k)
  data = torch.randint(1, 11, (80, 10), generator=g); data[:, 0] = 1
  src = tgt = data

Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
step covers forward, loss, backward, optimizer step, scheduler step and
zero_grad; drawing the batch and building its masks is not timed.

    python3 bench/copy_task_reference.py --steps 20 --warmup-steps 2 --threads 1 --seed 0 --json

prints one JSON object on stdout:
  impl "python", steps N, tokens (sum of ntokens over timed steps), seconds
  (timed steps only), tokens_per_s, final_loss (loss per token of the last
  step), batch_checksum (sum over timed batches of (data * arange(1, 11)).sum()),
  plus warmup_steps, threads, seed, torch_version.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import annotated_transformer as at  # noqa: E402

VOCAB = 11
BATCH = 80
SEQ_LEN = 10
PAD = 0
D_MODEL = 512
WARMUP_LR = 400


def make_batch_data(seed, k):
    g = torch.Generator().manual_seed(seed * 1000003 + k)
    data = torch.randint(1, VOCAB, (BATCH, SEQ_LEN), generator=g)
    data[:, 0] = 1
    return data


def synchronize(device):
    "Waits for the queued GPU work, so that the timer measures it done (nothing to wait for on the CPU)."
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    parser = argparse.ArgumentParser(description="annotated-Transformer copy-task benchmark (Python reference)")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup-steps", type=int, default=2, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0, help="init seed and batch stream seed")
    parser.add_argument("--json", action="store_true", help="print only a JSON object on stdout")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (timed regions synchronize the device)")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1:
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    device = torch.device(args.device)
    model = at.make_model(VOCAB, VOCAB, N=2).to(device)
    model.train()
    criterion = at.LabelSmoothing(size=VOCAB, padding_idx=PAD, smoothing=0.0)
    loss_compute = at.SimpleLossCompute(model.generator, criterion)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.5, betas=(0.9, 0.98), eps=1e-9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda=lambda step: at.rate(step, model_size=D_MODEL, factor=1.0, warmup=WARMUP_LR))

    seconds = 0.0
    tokens = 0
    checksum = 0
    weights = torch.arange(1, SEQ_LEN + 1)
    last_loss = last_ntokens = None
    for k in range(args.warmup_steps + args.steps):
        timed = k >= args.warmup_steps
        data = make_batch_data(args.seed, k)
        batch = at.Batch(data.clone().to(device), data.clone().to(device), PAD)

        synchronize(device)
        t0 = time.perf_counter()
        out = model.forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask)
        loss, loss_node = loss_compute(out, batch.tgt_y, batch.ntokens)
        loss_node.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        synchronize(device)
        t1 = time.perf_counter()

        if timed:
            seconds += t1 - t0
            tokens += int(batch.ntokens)
            checksum += int((data * weights).sum())
            last_loss, last_ntokens = loss, batch.ntokens

    final_loss = float(last_loss) / float(last_ntokens)
    result = {
        "impl": "python",
        "steps": args.steps,
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds if seconds > 0 else 0.0,
        "final_loss": final_loss,
        "batch_checksum": checksum,
        "warmup_steps": args.warmup_steps,
        "threads": args.threads,
        "seed": args.seed,
        "torch_version": torch.__version__,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"python reference: {args.steps} steps ({args.warmup_steps} warm-up), {tokens} tokens in "
              f"{seconds:.3f}s = {result['tokens_per_s']:.1f} tokens/s, final loss {final_loss:.4f}, "
              f"batch checksum {checksum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
