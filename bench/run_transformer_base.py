#!/usr/bin/env python3
"""Runs torchzoo's base-Transformer training benchmark: the Python reference against the C++ build.

    python3 bench/run_transformer_base.py --bin build/bench/transformer_base_bench --device cuda \\
        [--autocast bf16,none] [--impls python,cpp,cpp-math] [--steps 20 --warmup-steps 5 --repeats 2] \\
        [--peak-tflops 989] [--out FILE]
    python3 bench/run_transformer_base.py --bin build/bench/transformer_base_bench --autocast none \\
        --batch 4 --src-len 16 --tgt-len 16 --vocab 100 --layers 2 --d-model 64 --d-ff 128 --heads 4 \\
        --steps 2 --warmup-steps 1 --threads 1 --repeats 1          (a CPU smoke test)

Each repeat runs, one after the other, for every --autocast mode, each of
--impls: bench/transformer_base_reference.py ("python"), transformer_base_bench
--fused 1 ("cpp"), transformer_base_bench --fused 0 ("cpp-math", the
reference's attention math) and transformer_base_bench --fused 1
--linear-kernel onednn ("cpp-onednn", layers/linear_kernel.h), each in its own process with the same sizes,
steps, threads and seed. Alternating them within a repeat spreads slow drifts
of the machine over all of them.

Every run must report the batch_checksum that this script computes itself from
the batch formula (bench/transformer_base_bench.cpp), the same token counts and
parameter count, and the impl, autocast and device it was asked for; otherwise
the script stops with exit code 1. It prints, per autocast mode, the median
tokens/s, median step time and MFU of each implementation and the ratios
cpp / python (> 1 means C++ is faster).

Model FLOPs utilisation (MFU) = model FLOPs per step / (step seconds * peak FLOP/s),
with step seconds = seconds / steps of the run (the mean that tokens/s uses too)
and the model FLOPs those of the architecture, whatever an implementation
recomputes or fuses. With B sentences, S = src_len, T' = tgt_len - 1 decoder
positions, N layers, width d, feed-forward width f and vocabulary V:

  FLOPs per step   = 3 * F            (forward, plus backward at twice the forward)
  F                = 2 * sum over every Linear weight of in * out * (tokens through it) + A
    encoder layer: 4 attention projections d*d and the FF's d*f, f*d, over B*S tokens
    decoder layer: self-attention's 4 projections, cross-attention's Q and output
                   projections and the FF over B*T' tokens; cross-attention's K and V
                   projections over the memory's B*S tokens
    generator:     d*V over B*T' tokens
  A (attention matmuls, Q K^T and P V, 2 FLOPs per multiply-add each)
                   = N * (2*2*B*S*S*d + 2*2*B*T'*T'*d + 2*2*B*T'*S*d)
                     (encoder self-attention, decoder self-attention counted in full
                     although causal, cross-attention)

Embeddings, biases, normalisation, softmax, dropout, the loss and the optimizer
are not counted. Peaks: --peak-tflops is the bf16 dense peak for the bf16 runs
(default 989 on an "NVIDIA H200" or "H100", i.e. the SXM parts' figure; required on
other GPUs; on the CPU MFU is reported only if it is given, else null).
--peak-tflops-fp32 is the peak for the runs without autocast, whose matmuls run in
plain fp32 (PyTorch's default: no TF32): default 67 on H200/H100, else
--peak-tflops if given, else MFU null.

--out writes all runs, the medians, MFU, FLOPs per step and the device name
(torch.cuda.get_device_name on CUDA) as JSON.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model, load_average, run_json  # noqa: E402

IMPLS = ("python", "cpp", "cpp-math", "cpp-onednn")
MODES = ("none", "bf16")
# Dense peaks in TFLOP/s (bf16 tensor cores, fp32 without tensor cores), by a substring of the device name.
KNOWN_PEAKS = (("H200", 989.0, 67.0), ("H100", 989.0, 67.0))
SIZE_KEYS = ("batch", "src_len", "tgt_len", "vocab", "layers", "d_model", "d_ff", "heads")


def model_flops_per_step(batch, src_len, tgt_len, vocab, layers, d_model, d_ff):
    """Training FLOPs of one step (the formula in the module docstring)."""
    b, s, t, d, f = batch, src_len, tgt_len - 1, d_model, d_ff
    enc_tokens, dec_tokens = b * s, b * t
    linear = layers * (4 * d * d + 2 * d * f) * enc_tokens  # encoder
    linear += layers * ((4 * d * d + 2 * d * d + 2 * d * f) * dec_tokens + 2 * d * d * enc_tokens)  # decoder
    linear += d * vocab * dec_tokens  # generator
    attention = layers * (2 * 2 * b * s * s * d + 2 * 2 * b * t * t * d + 2 * 2 * b * t * s * d)
    return 3 * (2 * linear + attention)


def expected_checksum(seed, warmup_steps, steps, batch, src_len, vocab):
    """Sum over the timed batches of the sum of src, from the batch formula with plain integers."""
    m = vocab - 4
    col = [t * 31337 for t in range(src_len)]
    total = 0
    for k in range(warmup_steps, warmup_steps + steps):
        base = seed * 1000003 + k * 7919
        for b in range(batch):
            row = base + b * 104729
            total += sum((row + c) % m for c in col) + 4 * src_len
    return float(total)


def command(impl, mode, args):
    cmd = ["--device", args.device, "--autocast", mode, "--steps", str(args.steps),
           "--warmup-steps", str(args.warmup_steps), "--threads", str(args.threads), "--seed", str(args.seed)]
    for key in SIZE_KEYS:
        cmd += ["--" + key.replace("_", "-"), str(getattr(args, key))]
    cmd.append("--json")
    if impl == "python":
        return [sys.executable, args.reference] + cmd
    kernel = ["--linear-kernel", "onednn"] if impl.endswith("-onednn") else []
    return [args.bin] + cmd + ["--fused", "0" if impl.startswith("cpp-math") else "1"] + kernel


def run_one(impl, mode, args, device):
    cmd = command(impl, mode, args)
    result = run_json(cmd, "run_transformer_base", f"{impl} ({mode})")
    asked = {"impl": impl, "autocast": mode, "device": device, "steps": args.steps}
    asked.update({key: getattr(args, key) for key in SIZE_KEYS})
    wrong = {key: (want, result.get(key)) for key, want in asked.items() if result.get(key) != want}
    if wrong:
        sys.exit(f"run_transformer_base: {' '.join(cmd)} reported other settings than asked "
                 f"(key: asked, got): {wrong}")
    return result


def parse_list(text, allowed, what):
    items = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if not items or bad or len(set(items)) != len(items):
        raise argparse.ArgumentTypeError(f"{what}: expected a comma-separated list of distinct {allowed}, got {text!r}")
    return items


def device_info(device):
    """(device, its name). The CUDA name comes from a short-lived process, so that this one holds no CUDA
    context (and no GPU memory) while the benchmarks run."""
    if device == "cpu":
        return device, cpu_model()
    index = device.partition(":")[2] or "0"
    probe = ("import sys, torch\n"
             "if not torch.cuda.is_available(): sys.exit('this torch sees no CUDA device')\n"
             "print(torch.cuda.get_device_name(int(sys.argv[1])))")
    proc = subprocess.run([sys.executable, "-c", probe, index], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        sys.exit(f"run_transformer_base: --device {device}: {proc.stderr.strip()}")
    return device, proc.stdout.strip()


def write_json(path, obj):
    """Writes through a temporary file and a rename, so that a killed run leaves the previous version whole."""
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def peaks(args, is_cuda, name):
    known = next(((bf16, fp32) for key, bf16, fp32 in KNOWN_PEAKS if is_cuda and key in name), (None, None))
    bf16 = args.peak_tflops if args.peak_tflops is not None else known[0]
    fp32 = args.peak_tflops_fp32 if args.peak_tflops_fp32 is not None else (known[1] or args.peak_tflops)
    return {"bf16": bf16, "none": fp32}


def main():
    parser = argparse.ArgumentParser(description="base-Transformer training benchmark: Python reference vs C++")
    parser.add_argument("--bin", required=True, help="the transformer_base_bench executable")
    parser.add_argument("--reference", default=os.path.join(HERE, "transformer_base_reference.py"),
                        help="the Python reference script")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--autocast", default="bf16,none", type=lambda s: parse_list(s, MODES, "--autocast"),
                        help="comma-separated autocast modes to run: none, bf16")
    parser.add_argument("--impls", default="python,cpp", type=lambda s: parse_list(s, IMPLS, "--impls"),
                        help="comma-separated implementations: python, cpp, cpp-math (must include python)")
    parser.add_argument("--batch", type=int, default=200, help="sentences per step")
    parser.add_argument("--src-len", type=int, default=128, help="source tokens per sentence")
    parser.add_argument("--tgt-len", type=int, default=128, help="target tokens per sentence, start symbol included")
    parser.add_argument("--vocab", type=int, default=32000, help="source and target vocabulary (each)")
    parser.add_argument("--layers", type=int, default=6, help="encoder layers, and as many decoder layers")
    parser.add_argument("--d-model", type=int, default=512, help="model width")
    parser.add_argument("--d-ff", type=int, default=2048, help="feed-forward width")
    parser.add_argument("--heads", type=int, default=8, help="attention heads")
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per run")
    parser.add_argument("--warmup-steps", type=int, default=5, help="untimed optimizer steps first")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every run")
    parser.add_argument("--seed", type=int, default=1, help="init seed and batch stream seed")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each implementation and mode")
    parser.add_argument("--peak-tflops", type=float, help="bf16 dense peak TFLOP/s of the device (see above)")
    parser.add_argument("--peak-tflops-fp32", type=float, help="fp32 peak TFLOP/s, for the runs without autocast")
    parser.add_argument("--out", help="also write all runs and the summary to this JSON file")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup_steps < 0 or args.threads < 1 or args.repeats < 1 or args.seed < 0:
        parser.error("need --steps >= 1, --warmup-steps >= 0, --threads >= 1, --repeats >= 1, --seed >= 0")
    if args.vocab < 5 or args.tgt_len < 2 or min(args.batch, args.src_len, args.layers, args.d_model, args.d_ff,
                                                 args.heads) < 1:
        parser.error("need --vocab >= 5, --tgt-len >= 2 and positive sizes")
    if "python" not in args.impls:
        parser.error("--impls must include python: the ratios are against it")
    if not re.fullmatch(r"cpu|cuda(:[0-9]+)?", args.device):
        parser.error(f"--device: expected cpu, cuda or cuda:N, got {args.device!r}")
    if any(impl != "python" for impl in args.impls) and not os.access(args.bin, os.X_OK):
        parser.error(f"--bin {args.bin!r} is not an executable (build it: ninja -C build transformer_base_bench)")

    device, device_name = device_info(args.device)
    is_cuda = device.startswith("cuda")
    peak = peaks(args, is_cuda, device_name)
    if is_cuda and "bf16" in args.autocast and peak["bf16"] is None:
        parser.error(f"--peak-tflops is required on {device_name!r} (known: {', '.join(k for k, _, _ in KNOWN_PEAKS)})")
    flops = model_flops_per_step(args.batch, args.src_len, args.tgt_len, args.vocab, args.layers, args.d_model,
                                 args.d_ff)
    checksum = expected_checksum(args.seed, args.warmup_steps, args.steps, args.batch, args.src_len, args.vocab)
    tokens = args.steps * args.batch * (args.tgt_len - 1)
    src_tokens = args.steps * args.batch * args.src_len

    cpu = cpu_model()
    print(f"device: {device} ({device_name}); cpu: {cpu} ({os.cpu_count()} logical cores), threads {args.threads}")
    print(f"model: B {args.batch}, src {args.src_len}, tgt {args.tgt_len}, vocab {args.vocab}, N {args.layers}, "
          f"d_model {args.d_model}, d_ff {args.d_ff}, h {args.heads}; {flops / 1e12:.4g} TFLOP per training step")
    print(f"steps {args.steps} (+{args.warmup_steps} warm-up), seed {args.seed}, repeats {args.repeats}, "
          f"autocast {','.join(args.autocast)}, impls {','.join(args.impls)}; "
          f"peak TFLOP/s bf16 {peak['bf16']}, fp32 {peak['none']}")
    load_before = load_average()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before), flush=True)

    runs = []
    # --out is rewritten after every run ("complete": false until all runs are in and checked), so that a
    # run cut short by a time limit still leaves the runs done so far.
    summary = {
        "complete": False,
        "device": device,
        "device_name": device_name,
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "threads": args.threads,
        "steps": args.steps,
        "warmup_steps": args.warmup_steps,
        "seed": args.seed,
        "repeats": args.repeats,
        "impls": args.impls,
        "sizes": {key: getattr(args, key) for key in SIZE_KEYS},
        "flops_per_step": flops,
        "peak_tflops": peak,
        "batch_checksum": checksum,
        "load_average_before": load_before,
        "runs": runs,
    }
    started = time.time()
    for repeat in range(args.repeats):
        for mode in args.autocast:
            for impl in args.impls:
                result = run_one(impl, mode, args, device)
                result["repeat"] = repeat
                step_s = result["seconds"] / result["steps"] if result["seconds"] else None
                result["mfu"] = flops / (step_s * peak[mode] * 1e12) if step_s and peak[mode] else None
                runs.append(result)
                write_json(args.out, summary)
                mfu = f"MFU {result['mfu']:.3f}" if result["mfu"] is not None else "MFU n/a"
                print(f"  repeat {repeat} {mode:<4} {impl:<8} {result['tokens_per_s']:12.1f} tokens/s  "
                      f"median step {result['step_ms_median']:8.2f} ms  {mfu}  "
                      f"(final loss {result['final_loss']:.4f}, other jobs {result['other_cores']:.2f} cores)",
                      flush=True)
    load_after = load_average()
    print("load average after:  {:.2f} {:.2f} {:.2f}  ({:.0f}s in all)".format(*load_after, time.time() - started))

    bad = [r for r in runs if (r["batch_checksum"], r["tokens"], r["src_tokens"]) != (checksum, tokens, src_tokens)]
    if bad:
        details = "\n".join(f"  {r['impl']} ({r['autocast']}) repeat {r['repeat']}: batch_checksum "
                            f"{r['batch_checksum']}, tokens {r['tokens']}, src_tokens {r['src_tokens']}" for r in bad)
        summary["error"] = "batch mismatch"
        write_json(args.out, summary)
        sys.exit(f"run_transformer_base: FAILED, runs did not train on the expected batches (batch_checksum "
                 f"{checksum}, tokens {tokens}, src_tokens {src_tokens}):\n{details}")
    parameters = {r["parameters"] for r in runs}
    if len(parameters) != 1:
        summary["error"] = "parameter count mismatch"
        write_json(args.out, summary)
        sys.exit(f"run_transformer_base: FAILED, the models differ in size: "
                 f"{sorted({(r['impl'], r['parameters']) for r in runs})}")
    parameters = parameters.pop()
    print(f"batch checksum {checksum:.0f}, {tokens} target and {src_tokens} source tokens per run, "
          f"{parameters} parameters: as expected in all {len(runs)} runs")
    versions = {r["impl"]: r["torch_version"] for r in runs}
    print("torch: " + ", ".join(f"{impl} {v}" for impl, v in versions.items()))

    def med(impl, mode, key):
        values = [r[key] for r in runs if r["impl"] == impl and r["autocast"] == mode and r[key] is not None]
        return statistics.median(values) if values else None

    summary_modes = {}
    for mode in args.autocast:
        medians = {impl: {key: med(impl, mode, key) for key in ("tokens_per_s", "step_ms_median", "mfu")}
                   for impl in args.impls}
        ratios = {f"{impl}/python": medians[impl]["tokens_per_s"] / medians["python"]["tokens_per_s"]
                  for impl in args.impls if impl != "python" and medians["python"]["tokens_per_s"]}
        summary_modes[mode] = {"peak_tflops": peak[mode], "medians": medians, "ratios": ratios}
        print()
        print(f"autocast {mode} (peak {peak[mode]} TFLOP/s)")
        print(f"{'impl':<10}{'tokens/s':>14}{'step ms':>10}{'MFU':>8}   tokens/s of each run")
        for impl in args.impls:
            m = medians[impl]
            mfu = f"{m['mfu']:.3f}" if m["mfu"] is not None else "n/a"
            each = ", ".join(f"{r['tokens_per_s']:.1f}" for r in runs if r["impl"] == impl and r["autocast"] == mode)
            print(f"{impl:<10}{m['tokens_per_s']:>14.1f}{m['step_ms_median']:>10.2f}{mfu:>8}   {each}")
        for name, value in ratios.items():
            print(f"{name:<16}{value:>7.3f}x")
    busiest = max(r["other_cores"] for r in runs)
    if busiest > 0.1:
        print(f"warning: other jobs kept up to {busiest:.2f} cores busy during a run; the figures are disturbed")

    summary.update({
        "complete": True,
        "parameters": parameters,
        "torch_version": versions,
        "load_average_after": load_after,
        "autocast": summary_modes,
    })
    write_json(args.out, summary)
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
