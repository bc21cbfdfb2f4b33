#!/usr/bin/env python3
"""Python half of torchzoo's ViT training benchmark: the timm-structured PyTorch ViT.

Trains tests/reference/vit_reference.py's VisionTransformer for a fixed number
of optimizer steps, the same steps as bench/vit_bench.cpp (torchzoo's C++
modules), so that the two can be timed against each other:

  VisionTransformer(img 28, patch 4, in_chans 1, 10 classes, embed 128, depth 6, 4 heads,
                    mlp_ratio 2, qkv_bias, class-token pool, no dropout): the shape of
                    configs/vit_fashion_mnist.yaml; built right after torch.manual_seed(S);
                    train mode
  AdamW(lr 1e-3, weight_decay 0.05), F.cross_entropy with label_smoothing 0.1 (mean)
  batch k: g = torch.Generator().manual_seed(S * 1000003 + k) draws
           images = torch.randn(B, 1, 28, 28, generator=g), then
           labels = torch.randint(0, 10, (B,), generator=g)
  --autocast bf16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16);
                   backward outside it

Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
step covers forward, loss, backward, optimizer step and zero_grad(set_to_none=True),
measured with time.perf_counter; drawing the batch is not timed.

Attention: by default (--fused 0, impl "python") Attention runs the reference's
explicit math path (q * scale @ k^T, softmax, @ v), the counterpart of
vit_bench --fused 0 ("cpp-math"). With --fused 1 (impl "python-fused") each
Attention module's forward is replaced, in this script only, by one that calls
F.scaled_dot_product_attention on the same q, k, v (as timm's fused_attn path
does), the counterpart of vit_bench --fused 1 ("cpp"). Note that the defaults
differ: vit_bench defaults to fused, this script to the math path.

    python3 bench/vit_reference_bench.py --steps 20 --warmup-steps 3 --threads 2 --seed 1 --batch 128 \\
        --autocast none --fused 0 --json

prints one JSON object on stdout with the keys of vit_bench's: impl, autocast,
steps, batch, images (B * N), seconds (timed steps only), images_per_s,
final_loss (loss of the last timed step), batch_checksum (sum over timed
batches of images.sum() + labels.sum(), as floats), warmup_steps, threads,
seed, torch_version. batch_checksum must equal vit_bench's for the same seed,
steps, warm-up steps and batch.

Exit codes: 0 success, 2 bad command line (argparse).
"""

import argparse
import contextlib
import json
import math
import os
import sys
import time
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import vit_reference as vr  # noqa: E402

IMG = 28
CLASSES = 10
SEED_STRIDE = 1000003
UINT64 = 1 << 64


def batch_seed(seed, k):
    # vit_bench computes S * 1000003 + k in uint64 arithmetic; wrap the same way.
    return (seed * SEED_STRIDE + k) % UINT64


def synchronize(device):
    "Waits for the queued GPU work, so that the timer measures it done (nothing to wait for on the CPU)."
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_batch(seed, k, batch):
    g = torch.Generator().manual_seed(batch_seed(seed, k))
    images = torch.randn(batch, 1, IMG, IMG, generator=g)        # [B, 1, 28, 28]
    labels = torch.randint(0, CLASSES, (batch,), generator=g)    # [B]
    return images, labels


def fused_attention_forward(self, x):
    "vit_reference.Attention.forward with the attention itself through F.scaled_dot_product_attention."
    B, N, C = x.shape
    qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim)  # [B, N, 3, h, hd]
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)                     # 3 x [B, h, N, hd]
    x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p if self.training else 0.0)  # [B, h, N, hd]
    x = x.transpose(1, 2).reshape(B, N, C)                              # [B, N, D]
    return self.proj_drop(self.proj(x))


def build_model(fused):
    model = vr.VisionTransformer(img_size=IMG, patch_size=4, in_chans=1, num_classes=CLASSES, global_pool="token",
                                 embed_dim=128, depth=6, num_heads=4, mlp_ratio=2.0, qkv_bias=True)
    if fused:
        for module in model.modules():
            if isinstance(module, vr.Attention):
                module.forward = types.MethodType(fused_attention_forward, module)
    return model


def main():
    parser = argparse.ArgumentParser(description="ViT training benchmark (Python reference)")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=1, help="init seed and batch stream seed")
    parser.add_argument("--batch", type=int, default=128, help="images per step")
    parser.add_argument("--autocast", choices=("none", "bf16"), default="none", help="none or bf16")
    parser.add_argument("--fused", type=int, choices=(0, 1), default=0,
                        help="1: F.scaled_dot_product_attention, 0: the reference's math path (default)")
    parser.add_argument("--json", action="store_true", help="print only a JSON object on stdout")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (timed regions synchronize the device)")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1 or args.seed < 0 or args.seed >= 1 << 63:
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1, 0 <= --seed < 2^63")
    if not 1 <= args.batch <= 1 << 20:
        parser.error("need 1 <= --batch <= 2^20")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model = build_model(args.fused).to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

    def autocast():
        if args.autocast == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    seconds = 0.0
    images_seen = 0
    checksum = 0.0
    last_loss = None
    for k in range(args.warmup_steps + args.steps):
        images, labels = make_batch(args.seed, k, args.batch)
        on_device_images, on_device_labels = images.to(device), labels.to(device)

        synchronize(device)
        t0 = time.perf_counter()
        with autocast():
            loss = F.cross_entropy(model(on_device_images), on_device_labels, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        t1 = time.perf_counter()

        if k >= args.warmup_steps:
            seconds += t1 - t0
            images_seen += args.batch
            checksum += images.sum().item() + labels.sum().item()
            last_loss = loss.detach()

    final_loss = float(last_loss)
    impl = "python-fused" if args.fused else "python"
    images_per_s = images_seen / seconds if seconds > 0 else 0.0

    def number(x):
        return x if math.isfinite(x) else None

    result = {
        "impl": impl,
        "autocast": args.autocast,
        "steps": args.steps,
        "batch": args.batch,
        "images": images_seen,
        "seconds": number(seconds),
        "images_per_s": number(images_per_s),
        "final_loss": number(final_loss),
        "batch_checksum": number(checksum),
        "warmup_steps": args.warmup_steps,
        "threads": args.threads,
        "seed": args.seed,
        "torch_version": torch.__version__,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{impl} ({args.autocast}): {args.steps} steps ({args.warmup_steps} warm-up), {images_seen} images in "
              f"{seconds:.3f}s = {images_per_s:.1f} images/s, final loss {final_loss:.4f}, "
              f"batch checksum {checksum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
