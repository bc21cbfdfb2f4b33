#!/usr/bin/env python3
"""Python peer of bench/run_data_parallel.py: the annotated Transformer's copy
task trained with PyTorch's DistributedDataParallel over Gloo, or in one
process with gradient accumulation over the same micro-batches.

The model is make_model(11, 11, N, d_model, d_ff, h, dropout 0.1) in train
mode, Adam(betas (0.9, 0.98), eps 1e-9) at a constant lr (the schedule costs
nothing measurable), LabelSmoothing(smoothing 0) summed over tokens and
divided by the tokens as torchzoo's loss is. A step is `accum` micro-batches
of `batch` x 10 tokens in one process, or one micro-batch on each of the
WORLD_SIZE processes (DDP, default buckets) under torchrun:

    python3 bench/ddp_reference.py --layers 2 --d-model 512 --d-ff 2048 --heads 8 --batch 80 --accum 2 --threads 2
    torchrun --standalone --nproc-per-node 2 bench/ddp_reference.py --layers 2 --d-model 512 --d-ff 2048 \\
        --heads 8 --batch 80 --threads 1

Rank 0 prints one JSON object: tokens_per_s over the timed steps (the target
tokens of every rank, over rank 0's time from the first timed step to the
last), steps, world_size, threads, final_loss.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import annotated_transformer as at  # noqa: E402

VOCAB = 11
SEQ_LEN = 10
PAD = 0


def micro_batch(seed, index, batch):
    g = torch.Generator().manual_seed(seed * 1000003 + index)
    data = torch.randint(1, VOCAB, (batch, SEQ_LEN), generator=g)
    data[:, 0] = 1
    return at.Batch(data.clone(), data.clone(), PAD)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--d-ff", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--accum", type=int, default=1, help="micro-batches a step (one process)")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    distributed = "RANK" in os.environ
    rank, world = 0, 1
    if distributed:
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed + rank)
    model = at.make_model(VOCAB, VOCAB, N=args.layers, d_model=args.d_model, d_ff=args.d_ff, h=args.heads)
    model.train()
    trained = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    criterion = at.LabelSmoothing(size=VOCAB, padding_idx=PAD, smoothing=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)

    tokens = 0
    start = None
    loss_value = float("nan")
    for step in range(args.warmup_steps + args.steps):
        if step == args.warmup_steps:
            if distributed:
                dist.barrier()
            start = time.perf_counter()
        for micro in range(args.accum):
            index = (step * args.accum + micro) * world + rank
            batch = micro_batch(args.seed, index, args.batch)
            out = trained(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask)
            logits = model.generator(out)
            loss = criterion(logits.contiguous().view(-1, logits.size(-1)), batch.tgt_y.contiguous().view(-1))
            (loss / batch.ntokens / args.accum).backward()
            if step >= args.warmup_steps:
                tokens += int(batch.ntokens) * world
            loss_value = float(loss) / float(batch.ntokens)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"impl": "python-ddp" if distributed else "python", "world_size": world,
                          "threads": args.threads, "steps": args.steps, "tokens": tokens, "seconds": seconds,
                          "tokens_per_s": tokens / seconds, "final_loss": loss_value,
                          "torch_version": torch.__version__}))
    if distributed:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
