#!/usr/bin/env python3
"""torchzoo translate against CTranslate2 on the same trained model and sentences.

    python3 bench/run_ctranslate2.py --bin build/torchzoo --checkpoint runs/x/checkpoint.pt \\
        --spm $(build/torchzoo data dir)/libreoffice-help/en-US-de/spm-joint-unigram-8000.model \\
        --source .../test.en-US [--reference .../test.de] [--sentences 500] [--batches 1,32] [--beams 1,4]

1. Converts the checkpoint for CTranslate2 through its Python spec API
   (ctranslate2.specs.TransformerSpec): the weights come from
   `torchzoo export --format safetensors` (the annotated Transformer's names),
   the vocabulary from the SentencePiece model, the model's settings from the
   config the export carries. The model must be pre-norm with ReLU, sinusoidal
   positions (written into the spec as they are, the annotated interleaved
   sin/cos), and one joint vocabulary. CTranslate2 normalises as torch's
   LayerNorm does (`model.norm: layer_norm`); the annotated LayerNorm,
   a (x - mean) / (std + eps) + b with the unbiased std over n features, is
   written as torch's with gain a * sqrt((n - 1) / n): the same function but
   for where eps enters (inside the square root rather than after it), a
   difference of order eps / std.
2. Translates the first --sentences source lines greedily on both sides, at the
   same maximum length, and counts the sentences whose outputs agree exactly.
3. Times both at each --compute-types x --batches x --beams and prints sentences/s and the
   ratio torchzoo / CTranslate2. torchzoo's time is the `translate` command's
   wall time less its start-up (a run on one sentence, subtracted); CTranslate2's
   is translate_batch's. The sides take turns --repeats times and each side's
   median counts (this machine's timings spread by 10-20 % from run to run).
   With --reference it also prints each side's BLEU
   (`torchzoo bleu`, sacreBLEU's 13a).
   Compute types: float32 on both sides, or int8 -- `translate --quantize int8`
   (dynamically quantized linears, FBGEMM) against CTranslate2's
   compute_type "int8" (its own int8 weights and activations).

Sources are tokenised once with SentencePiece for CTranslate2; torchzoo reads
the text (its own SentencePiece in C++). Both run --threads intra-op threads.
"""

import argparse
import json
import statistics
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model  # noqa: E402


def fail(message):
    sys.exit(f"run_ctranslate2: {message}")


def convert(args, work):
    """Writes the CTranslate2 model folder from the checkpoint; returns its path."""
    import ctranslate2
    import sentencepiece
    from ctranslate2.specs import common_spec, transformer_spec
    import yaml
    from safetensors import safe_open
    from safetensors.numpy import load_file

    weights_path = os.path.join(work, "model.safetensors")
    subprocess.run([args.bin, "export", "--checkpoint", args.checkpoint, "--format", "safetensors",
                    "-o", weights_path], check=True, capture_output=True)
    w = load_file(weights_path)
    with safe_open(weights_path, framework="numpy") as f:
        model_config = yaml.safe_load(f.metadata()["torchzoo.config"])["model"]
    if model_config.get("name") != "encoder_decoder" or not model_config.get("norm_first", True):
        fail("expected a pre-norm encoder_decoder checkpoint")
    layers = model_config["num_layers"]
    heads = model_config["num_heads"]
    annotated_norm = model_config.get("norm", "annotated") == "annotated"

    spec = transformer_spec.TransformerSpec.from_config((layers, layers), heads, pre_norm=True,
                                                        activation=common_spec.Activation.RELU)

    def linear(target, prefix, names=None):
        names = names or [prefix]
        target.weight = __import__("numpy").concatenate([w[f"{n}.weight"] for n in names])
        target.bias = __import__("numpy").concatenate([w[f"{n}.bias"] for n in names])

    def norm(target, prefix):
        gain = w[f"{prefix}.a_2"]
        if annotated_norm:  # the unbiased std is the biased one times sqrt(n / (n - 1))
            gain = gain * ((gain.shape[0] - 1) / gain.shape[0]) ** 0.5
        target.gamma = gain
        target.beta = w[f"{prefix}.b_2"]

    src_lut = w["src_embed.0.lut.weight"]
    tgt_lut = w.get("tgt_embed.0.lut.weight", src_lut)
    spec.encoder.embeddings[0].weight = src_lut
    spec.decoder.embeddings.weight = tgt_lut
    # The annotated positions (interleaved sin/cos), as the model adds them: [max_len, d_model].
    spec.encoder.position_encodings.encodings = w["src_embed.1.pe"].reshape(-1, src_lut.shape[1])
    spec.decoder.position_encodings.encodings = w.get("tgt_embed.1.pe", w["src_embed.1.pe"]).reshape(
        -1, src_lut.shape[1])
    for i, layer in enumerate(spec.encoder.layer):
        p = f"encoder.layers.{i}"
        norm(layer.self_attention.layer_norm, f"{p}.sublayer.0.norm")
        linear(layer.self_attention.linear[0], None, [f"{p}.self_attn.linears.{k}" for k in range(3)])
        linear(layer.self_attention.linear[1], f"{p}.self_attn.linears.3")
        norm(layer.ffn.layer_norm, f"{p}.sublayer.1.norm")
        linear(layer.ffn.linear_0, f"{p}.feed_forward.w_1")
        linear(layer.ffn.linear_1, f"{p}.feed_forward.w_2")
    norm(spec.encoder.layer_norm, "encoder.norm")
    for i, layer in enumerate(spec.decoder.layer):
        p = f"decoder.layers.{i}"
        norm(layer.self_attention.layer_norm, f"{p}.sublayer.0.norm")
        linear(layer.self_attention.linear[0], None, [f"{p}.self_attn.linears.{k}" for k in range(3)])
        linear(layer.self_attention.linear[1], f"{p}.self_attn.linears.3")
        norm(layer.attention.layer_norm, f"{p}.sublayer.1.norm")
        linear(layer.attention.linear[0], f"{p}.src_attn.linears.0")
        linear(layer.attention.linear[1], None, [f"{p}.src_attn.linears.{k}" for k in (1, 2)])
        linear(layer.attention.linear[2], f"{p}.src_attn.linears.3")
        norm(layer.ffn.layer_norm, f"{p}.sublayer.2.norm")
        linear(layer.ffn.linear_0, f"{p}.feed_forward.w_1")
        linear(layer.ffn.linear_1, f"{p}.feed_forward.w_2")
    norm(spec.decoder.layer_norm, "decoder.norm")
    spec.decoder.projection.weight = w.get("generator.proj.weight", tgt_lut)
    spec.decoder.projection.bias = w["generator.proj.bias"]

    sp = sentencepiece.SentencePieceProcessor(model_file=args.spm)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    if len(pieces) != src_lut.shape[0]:
        fail(f"the SentencePiece model has {len(pieces)} pieces, the checkpoint's vocabulary {src_lut.shape[0]}")
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.config.bos_token, spec.config.eos_token, spec.config.unk_token = (
        sp.id_to_piece(sp.bos_id()), sp.id_to_piece(sp.eos_id()), sp.id_to_piece(sp.unk_id()))
    spec.config.decoder_start_token = spec.config.bos_token
    out = os.path.join(work, "ct2")
    os.makedirs(out)
    spec.validate()
    spec.optimize(quantization=None)
    spec.save(out)
    return out, sp


def run_torchzoo(args, lines, batch, beam, compute_type="float32"):
    cmd = [args.bin, "translate", "--checkpoint", args.checkpoint, "--quiet", "--device", "cpu", "--autocast", "none",
           "--batch-size", str(batch), "--beam", str(beam), "--length-penalty", "0",
           "--max-len-a", "0", "--max-len-b", str(args.max_len)]
    if compute_type == "int8":
        cmd += ["--quantize", "int8"]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    start = time.perf_counter()
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        fail(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout.splitlines(), seconds


def run_ct2(translator, sp, tokens, batch, beam, args):
    start = time.perf_counter()
    results = translator.translate_batch(tokens, max_batch_size=batch, beam_size=beam,
                                         max_decoding_length=args.max_len, length_penalty=0.0)
    seconds = time.perf_counter() - start
    return [sp.decode_pieces(r.hypotheses[0]) for r in results], seconds


def bleu(args, hypotheses, work, name):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("\n".join(hypotheses) + "\n")
    with open(path) as f:
        proc = subprocess.run([args.bin, "bleu", args.reference_cut], stdin=f, capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"torchzoo bleu failed:\n{proc.stderr}")
    return round(json.loads(proc.stdout)["score"], 2)


def main():
    parser = argparse.ArgumentParser(description="torchzoo translate vs CTranslate2")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--spm", required=True, help="the checkpoint's SentencePiece model (joint vocabulary)")
    parser.add_argument("--source", required=True)
    parser.add_argument("--reference", help="target-side references, line by line, for BLEU")
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--beams", default="1,4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=128, help="target pieces at most, on both sides")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side per setting (median)")
    parser.add_argument("--compute-types", default="float32", help="float32 and/or int8, comma-separated")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    import ctranslate2

    with open(args.source) as f:
        lines = [line.rstrip("\n") for line in f][: args.sentences]
    print(f"cpu: {cpu_model()} ({os.cpu_count()} logical cores), threads {args.threads}, {len(lines)} sentences, "
          f"ctranslate2 {ctranslate2.__version__}", flush=True)
    results = {"cpu": cpu_model(), "sentences": len(lines), "runs": []}
    with tempfile.TemporaryDirectory(prefix="torchzoo_ct2_") as work:
        ct2_dir, sp = convert(args, work)
        tokens = [sp.encode(line, out_type=str) + [sp.id_to_piece(sp.eos_id())] for line in lines]
        if args.reference:
            with open(args.reference) as f:
                refs = [line.rstrip("\n") for line in f][: len(lines)]
            args.reference_cut = os.path.join(work, "reference.txt")
            with open(args.reference_cut, "w") as f:
                f.write("\n".join(refs) + "\n")
        for compute_type in args.compute_types.split(","):
            if compute_type not in ("float32", "int8"):
                fail(f"--compute-types: expected float32 or int8, got {compute_type!r}")
            print(f"== {compute_type}", flush=True)
            translator = ctranslate2.Translator(ct2_dir, device="cpu", compute_type=compute_type,
                                                intra_threads=args.threads, inter_threads=1)
            startup = statistics.median(run_torchzoo(args, lines[:1], 1, 1, compute_type)[1]
                                        for _ in range(args.repeats))
            ours, _ = run_torchzoo(args, lines, 32, 1, compute_type)
            theirs, _ = run_ct2(translator, sp, tokens, 32, 1, args)
            agree = sum(a == b for a, b in zip(ours, theirs))
            print(f"greedy outputs that agree exactly: {agree} of {len(lines)}", flush=True)
            results.setdefault("greedy_agreement", {})[compute_type] = agree
            for example in [(a, b) for a, b in zip(ours, theirs) if a != b][:3]:
                print(f"  torchzoo:    {example[0]}\n  ctranslate2: {example[1]}")
            print(f"torchzoo start-up (one sentence): {startup:.2f} s, subtracted", flush=True)
            for beam in [int(b) for b in args.beams.split(",")]:
                for batch in [int(b) for b in args.batches.split(",")]:
                    # The two sides take turns, --repeats times; each side's median time counts.
                    our_times, their_times = [], []
                    for _ in range(args.repeats):
                        ours, seconds = run_torchzoo(args, lines, batch, beam, compute_type)
                        our_times.append(seconds)
                        theirs, seconds = run_ct2(translator, sp, tokens, batch, beam, args)
                        their_times.append(seconds)
                    our_s = max(statistics.median(our_times) - startup, 1e-9)
                    their_s = statistics.median(their_times)
                    run = {"compute_type": compute_type, "batch": batch, "beam": beam,
                           "torchzoo_sent_per_s": len(lines) / our_s, "ctranslate2_sent_per_s": len(lines) / their_s}
                    run["ratio"] = run["torchzoo_sent_per_s"] / run["ctranslate2_sent_per_s"]
                    if args.reference:
                        run["torchzoo_bleu"] = bleu(args, ours, work, "ours.txt")
                        run["ctranslate2_bleu"] = bleu(args, theirs, work, "theirs.txt")
                    results["runs"].append(run)
                    scores = (f" | BLEU {run['torchzoo_bleu']} vs {run['ctranslate2_bleu']}" if args.reference else "")
                    print(f"{compute_type} beam {beam} batch {batch:3d}: torchzoo {run['torchzoo_sent_per_s']:7.1f} "
                          f"sent/s, ctranslate2 {run['ctranslate2_sent_per_s']:7.1f} sent/s, "
                          f"ratio {run['ratio']:.2f}x{scores}", flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
