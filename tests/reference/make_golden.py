#!/usr/bin/env python3
"""Golden values for torchzoo's C++ parity tests, from the PyTorch references.

Cases come from the annotated-Transformer reference (annotated_transformer.py,
cases defined here) and from the timm Vision Transformer reference
(vit_reference.py, cases vit_* defined in vit_golden.py with their own seeds
and parameter rule); both are written to the same DIR and listed in one
manifest.

    python3 tests/reference/make_golden.py --out DIR      # write DIR/<case>.pt + DIR/manifest.txt
    python3 tests/reference/make_golden.py --check DIR    # reload every file and re-verify it

Each DIR/<case>.pt is ``torch.save`` of a flat dict str -> Tensor (contiguous,
detached, float32 unless stated; scalars are 0-dim tensors), read in C++ with
``torch::pickle_load``. Keys:

  param.<state_dict key>   every parameter of the module (no buffers such as ``pe``)
  input.<name>             inputs; masks are bool (true = may attend); tokens int64
  output                   forward output (dropout is off: modules built with
                           dropout=0.0 and run in eval mode)
  loss_weights             R shaped like output; the loss is (output * R).sum()
  grad.<param name>        d loss / d param, for every parameter
  grad_input.<name>        d loss / d input, only for the inputs the case lists
                           (float inputs that are data, not settings)

Cases without gradients (noam_rate, subsequent_mask, greedy_decode,
vit_resample_pos_embed) have no loss_weights / grad keys.

Parameters are set without the RNG: parameter number i (named_parameters
order) is ``scale * sin(0.37 k + 1.1 i + 0.013 k^2 + 0.031 i^2 k)`` over its
flat index k, computed in float64 (the k^2 term keeps matrices full rank, the
i^2 k term decorrelates parameters of equal shape, e.g. the target embedding
and the generator, so that greedy decoding is not trivial), with scale 1/sqrt(fan_in) for
matrices, 0.1 for biases, and 1 + 0.1 sin(...) for LayerNorm gains (a_2).
Inputs come from a seeded torch.Generator; both are saved, so the C++ side
never regenerates them. (The vit_* cases: see vit_golden.py's docstring.)
"""

import argparse
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import annotated_transformer as at  # noqa: E402
import encoder_only_and_lm  # noqa: E402
import vit_golden  # noqa: E402

B = 2
D = 16
H = 4
D_FF = 32
VOCAB = 11
PAD = 0

OUTPUT_ATOL = 1e-5
GRAD_ATOL = 1e-4


# ----------------------------------------------------------------------------
# deterministic parameters and inputs


def set_deterministic_params(module):
    with torch.no_grad():
        for i, (name, p) in enumerate(module.named_parameters()):
            k = torch.arange(p.numel(), dtype=torch.float64)
            base = torch.sin(0.37 * k + 1.1 * i + 0.013 * k * k + 0.031 * i * i * k).reshape(p.shape)
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "a_2":
                value = 1.0 + 0.1 * base
            elif leaf == "b_2" or p.dim() == 1:
                value = 0.1 * base
            else:
                value = base / math.sqrt(p.shape[1])
            p.copy_(value.to(p.dtype))
    return module


class Inputs:
    "Seeded generator per case so that adding a case never changes another."

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def randn(self, *shape):
        return torch.randn(*shape, generator=self.g, dtype=torch.float32)

    def tokens(self, rows, cols, pad_last=(0, 2), low=1):
        "int64 tokens in [low, VOCAB); row r's last pad_last[r] tokens are PAD."
        t = torch.randint(low, VOCAB, (rows, cols), generator=self.g, dtype=torch.int64)
        for r, n in enumerate(pad_last):
            if n:
                t[r, cols - n:] = PAD
        return t


def pad_mask(lengths, total):
    "[B, 1, total] bool: true on the first lengths[b] positions."
    pos = torch.arange(total)
    return torch.stack([pos < n for n in lengths]).unsqueeze(1)


def causal_mask(lengths, total):
    "[B, total, total] bool: padding & subsequent."
    return pad_mask(lengths, total) & at.subsequent_mask(total)


# ----------------------------------------------------------------------------
# cases: each returns dict(module, inputs, run, grad_inputs, grad)


def _mha():
    return at.MultiHeadedAttention(H, D, dropout=0.0)


def _ff(activation="relu", d_model=D, d_ff=D_FF):
    return at.PositionwiseFeedForward(d_model, d_ff, dropout=0.0, activation=activation)


def _encoder_layer():
    return at.EncoderLayer(D, _mha(), _ff(), 0.0)


def _decoder_layer():
    return at.DecoderLayer(D, _mha(), _mha(), _ff(), 0.0)


def case_layer_norm(inp):
    return dict(module=at.LayerNorm(D), inputs={"x": inp.randn(B, 5, D) * 2.0 + 0.5},
                run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_multi_headed_attention_self(inp):
    x = inp.randn(B, 5, D)
    return dict(module=_mha(),
                inputs={"query": x.clone(), "key": x.clone(), "value": x.clone(),
                        "mask": pad_mask([5, 3], 5)},
                run=lambda m, i: m(i["query"], i["key"], i["value"], i["mask"]),
                grad_inputs=["query", "key", "value"])


def case_multi_headed_attention_cross(inp):
    q = inp.randn(B, 4, D)
    kv = inp.randn(B, 6, D)
    return dict(module=_mha(),
                inputs={"query": q, "key": kv.clone(), "value": kv.clone(),
                        "mask": pad_mask([6, 4], 6)},
                run=lambda m, i: m(i["query"], i["key"], i["value"], i["mask"]),
                grad_inputs=["query", "key", "value"])


def case_multi_headed_attention_causal(inp):
    x = inp.randn(B, 5, D)
    return dict(module=_mha(),
                inputs={"query": x.clone(), "key": x.clone(), "value": x.clone(),
                        "mask": causal_mask([5, 3], 5)},
                run=lambda m, i: m(i["query"], i["key"], i["value"], i["mask"]),
                grad_inputs=["query", "key", "value"])


def case_positionwise_feed_forward(inp):
    return dict(module=_ff("relu"), inputs={"x": inp.randn(B, 5, D)},
                run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_positionwise_feed_forward_gelu(inp):
    return dict(module=_ff("gelu"), inputs={"x": inp.randn(B, 5, D)},
                run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_embeddings(inp):
    return dict(module=at.Embeddings(D, VOCAB), inputs={"tokens": inp.tokens(B, 5)},
                run=lambda m, i: m(i["tokens"]), grad_inputs=[])


def case_positional_encoding(inp):
    return dict(module=at.PositionalEncoding(D, 0.0, max_len=50), inputs={"x": inp.randn(B, 5, D)},
                run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_generator(inp):
    return dict(module=at.Generator(D, VOCAB), inputs={"x": inp.randn(B, 5, D)},
                run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_encoder_layer(inp):
    return dict(module=_encoder_layer(),
                inputs={"x": inp.randn(B, 5, D), "mask": pad_mask([5, 3], 5)},
                run=lambda m, i: m(i["x"], i["mask"]), grad_inputs=["x"])


def _decoder_inputs(inp):
    return {"x": inp.randn(B, 5, D), "memory": inp.randn(B, 6, D),
            "src_mask": pad_mask([6, 4], 6), "tgt_mask": causal_mask([5, 3], 5)}


def _run_decoder(m, i):
    return m(i["x"], i["memory"], i["src_mask"], i["tgt_mask"])


def case_decoder_layer(inp):
    return dict(module=_decoder_layer(), inputs=_decoder_inputs(inp), run=_run_decoder,
                grad_inputs=["x", "memory"])


def case_encoder(inp):
    return dict(module=at.Encoder(_encoder_layer(), 2),
                inputs={"x": inp.randn(B, 5, D), "mask": pad_mask([5, 3], 5)},
                run=lambda m, i: m(i["x"], i["mask"]), grad_inputs=["x"])


def case_decoder(inp):
    return dict(module=at.Decoder(_decoder_layer(), 2), inputs=_decoder_inputs(inp),
                run=_run_decoder, grad_inputs=["x", "memory"])


def _small_model():
    return at.make_model(VOCAB, VOCAB, N=2, d_model=32, d_ff=64, h=4, dropout=0.0)


def case_encoder_decoder(inp):
    src = inp.tokens(B, 7, pad_last=(0, 2))
    src[:, 0] = 1
    tgt = inp.tokens(B, 6, pad_last=(0, 2))
    tgt[:, 0] = 1
    return dict(module=_small_model(),
                inputs={"src": src, "tgt": tgt,
                        "src_mask": (src != PAD).unsqueeze(-2),
                        "tgt_mask": at.Batch.make_std_mask(tgt, PAD)},
                run=lambda m, i: m.generator(m(i["src"], i["tgt"], i["src_mask"], i["tgt_mask"])),
                grad_inputs=[])


def _classifier_inputs(inp):
    tokens = inp.tokens(B, 7, pad_last=(0, 3))
    tokens[:, 0] = 1  # the class token
    return {"tokens": tokens, "mask": (tokens != PAD).unsqueeze(-2)}


def case_encoder_classifier_cls(inp):
    return dict(module=encoder_only_and_lm.EncoderClassifier(VOCAB, 3, N=2, d_model=D, d_ff=D_FF, h=H),
                inputs=_classifier_inputs(inp), run=lambda m, i: m(i["tokens"], i["mask"]), grad_inputs=[])


def case_encoder_classifier_mean_learned(inp):
    return dict(module=encoder_only_and_lm.EncoderClassifier(VOCAB, 3, N=2, d_model=D, d_ff=D_FF, h=H,
                                                            pooling="mean", learned_positions=True),
                inputs=_classifier_inputs(inp), run=lambda m, i: m(i["tokens"], i["mask"]), grad_inputs=[])


def case_decoder_only_lm(inp):
    tokens = inp.tokens(B, 7, pad_last=(0, 2))
    return dict(module=encoder_only_and_lm.DecoderOnlyLM(VOCAB, N=2, d_model=D, d_ff=D_FF, h=H),
                inputs={"tokens": tokens, "mask": at.Batch.make_std_mask(tokens, PAD)},
                run=lambda m, i: m.generator(m(i["tokens"], i["mask"])), grad_inputs=[])


def case_label_smoothing(inp):
    x = torch.log_softmax(inp.randn(12, VOCAB) * 2.0, dim=-1)
    target = torch.randint(1, VOCAB, (12,), generator=inp.g, dtype=torch.int64)
    target[[2, 7, 11]] = PAD
    return dict(module=at.LabelSmoothing(VOCAB, PAD, 0.1),
                inputs={"x": x, "target": target,
                        "size": torch.tensor(VOCAB, dtype=torch.int64),
                        "padding_idx": torch.tensor(PAD, dtype=torch.int64),
                        "smoothing": torch.tensor(0.1, dtype=torch.float64)},
                run=lambda m, i: m(i["x"], i["target"]), grad_inputs=["x"])


def case_noam_rate(inp):
    inputs = {"steps": torch.arange(0, 2001, 7, dtype=torch.int64),
              "model_size": torch.tensor(512, dtype=torch.int64),
              "factor": torch.tensor(1.0, dtype=torch.float64),
              "warmup": torch.tensor(400, dtype=torch.int64)}

    def run(_, i):
        return torch.tensor([at.rate(int(s), int(i["model_size"]), float(i["factor"]), int(i["warmup"]))
                             for s in i["steps"]], dtype=torch.float64)

    return dict(module=None, inputs=inputs, run=run, grad=False)


def case_subsequent_mask(inp):
    return dict(module=None, inputs={"size": torch.tensor(6, dtype=torch.int64)},
                run=lambda _, i: at.subsequent_mask(int(i["size"])), grad=False)


def case_greedy_decode(inp):
    # Same deterministic parameters as encoder_decoder (same architecture, same
    # named_parameters order). Sources picked so that the two rows decode
    # differently and every greedy step's top-2 log-prob gap is > 0.02.
    src = torch.tensor([[1, 3, 2, 7, 4, 8, 8],
                        [1, 9, 2, 9, 2, PAD, PAD]], dtype=torch.int64)

    def run(m, i):
        rows = []
        for r in range(i["src"].size(0)):
            s = i["src"][r:r + 1]
            rows.append(at.greedy_decode(m, s, i["src_mask"][r:r + 1], int(i["max_len"]),
                                         int(i["start_symbol"]))[0])
        return torch.stack(rows)

    return dict(module=_small_model(),
                inputs={"src": src, "src_mask": (src != PAD).unsqueeze(-2),
                        "max_len": torch.tensor(7, dtype=torch.int64),
                        "start_symbol": torch.tensor(1, dtype=torch.int64)},
                run=run, grad=False)


CASES = [
    "layer_norm",
    "multi_headed_attention_self",
    "multi_headed_attention_cross",
    "multi_headed_attention_causal",
    "positionwise_feed_forward",
    "positionwise_feed_forward_gelu",
    "embeddings",
    "positional_encoding",
    "generator",
    "encoder_layer",
    "decoder_layer",
    "encoder",
    "decoder",
    "encoder_decoder",
    "label_smoothing",
    "noam_rate",
    "subsequent_mask",
    "greedy_decode",
    "encoder_classifier_cls",
    "encoder_classifier_mean_learned",
    "decoder_only_lm",
]

ALL_CASES = CASES + vit_golden.CASES


def build(name):
    "Returns the case spec with deterministic params and inputs (module in eval mode)."
    if name in vit_golden.CASES:
        return vit_golden.build(name)
    seed = 1000 + CASES.index(name)
    spec = globals()["case_" + name](Inputs(seed))
    spec.setdefault("grad", True)
    spec.setdefault("grad_inputs", [])
    spec["weights_seed"] = 5000 + CASES.index(name)
    if spec["module"] is not None:
        set_deterministic_params(spec["module"])
        spec["module"].eval()
    return spec


# ----------------------------------------------------------------------------
# evaluation


def evaluate(spec, inputs, loss_weights=None, weights_seed=0):
    """Runs the case. Returns a flat dict of output, loss_weights, grad.*, grad_input.*."""
    module = spec["module"]
    inputs = {k: v.clone() for k, v in inputs.items()}
    out = {}
    if not spec["grad"]:
        with torch.no_grad():
            out["output"] = spec["run"](module, inputs)
        return out
    for name in spec["grad_inputs"]:
        inputs[name].requires_grad_(True)
    if module is not None:
        module.zero_grad(set_to_none=True)
    output = spec["run"](module, inputs)
    if loss_weights is None:
        g = torch.Generator().manual_seed(weights_seed)
        loss_weights = torch.randn(output.shape, generator=g, dtype=output.dtype)
    (output * loss_weights).sum().backward()
    out["output"] = output.detach()
    out["loss_weights"] = loss_weights
    if module is not None:
        for pname, p in module.named_parameters():
            out["grad." + pname] = p.grad.detach() if p.grad is not None else torch.zeros_like(p)
    for name in spec["grad_inputs"]:
        out["grad_input." + name] = inputs[name].grad.detach()
    return out


def make_record(name):
    spec = build(name)
    record = {}
    if spec["module"] is not None:
        for pname, p in spec["module"].named_parameters():
            record["param." + pname] = p.detach()
    for iname, t in spec["inputs"].items():
        record["input." + iname] = t
    record.update(evaluate(spec, spec["inputs"], weights_seed=spec["weights_seed"]))
    # The annotated MultiHeadedAttention keeps its last weights in .attn: "attn.<module name>"
    # [B, h, T_q, T_k], what models::AttentionRecorder must return under the same name.
    if spec["module"] is not None:
        for mname, mod in spec["module"].named_modules():
            if isinstance(getattr(mod, "attn", None), torch.Tensor):
                record["attn." + mname] = mod.attn.detach()
    # Own, contiguous storage per tensor (no views of shared storages).
    return {k: v.detach().contiguous().clone() for k, v in record.items()}


def _check_greedy_margin(record, min_gap=1e-3):
    "Guards against near-ties that float rounding could flip in another implementation."
    spec = build("greedy_decode")
    m = spec["module"]
    with torch.no_grad():
        for r in range(record["input.src"].size(0)):
            src = record["input.src"][r:r + 1]
            src_mask = record["input.src_mask"][r:r + 1]
            ys = record["output"][r:r + 1]
            out = m.decode(m.encode(src, src_mask), src_mask, ys[:, :-1], at.subsequent_mask(ys.size(1) - 1))
            top2 = m.generator(out)[0].topk(2, dim=-1).values
            gap = (top2[:, 0] - top2[:, 1]).min().item()
            assert gap > min_gap, f"greedy_decode row {r}: top-2 gap {gap:.3g} too small"


def write(out_dir):
    t0 = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    nkeys = 0
    for name in ALL_CASES:
        record = make_record(name)
        for k, v in record.items():
            assert isinstance(k, str) and isinstance(v, torch.Tensor), (name, k)
            assert torch.isfinite(v.double()).all(), (name, k)
        if name == "greedy_decode":
            _check_greedy_margin(record)
        torch.save(record, os.path.join(out_dir, name + ".pt"))
        nkeys += len(record)
    with open(os.path.join(out_dir, "manifest.txt"), "w") as f:
        f.write("\n".join(ALL_CASES) + "\n")
    print(f"make_golden: wrote {len(ALL_CASES)} cases ({nkeys} tensors) to {out_dir} "
          f"in {time.perf_counter() - t0:.2f}s (torch {torch.__version__})")


def check(in_dir):
    "Reloads every file, loads params by name into a fresh module, recomputes, compares."
    t0 = time.perf_counter()
    with open(os.path.join(in_dir, "manifest.txt")) as f:
        names = [line.strip() for line in f if line.strip()]
    failures = []
    for name in names:
        record = torch.load(os.path.join(in_dir, name + ".pt"), weights_only=True)
        spec = build(name)
        module = spec["module"]
        if module is not None:
            with torch.no_grad():  # scramble first so that only the file's values count
                for p in module.parameters():
                    p.fill_(0.123)
        params = {k[len("param."):]: v for k, v in record.items() if k.startswith("param.")}
        expected = set(dict(module.named_parameters())) if module is not None else set()
        if set(params) != expected:
            failures.append(f"{name}: param keys {sorted(set(params) ^ expected)}")
            continue
        if module is not None:
            with torch.no_grad():
                for pname, p in module.named_parameters():
                    p.copy_(params[pname])
        inputs = {k[len("input."):]: v for k, v in record.items() if k.startswith("input.")}
        got = evaluate(spec, inputs, loss_weights=record.get("loss_weights"))
        ref_keys = {k for k in record if not k.startswith(("param.", "input."))}
        if set(got) != ref_keys:
            failures.append(f"{name}: result keys {sorted(set(got) ^ ref_keys)}")
            continue
        for k, v in got.items():
            ref = record[k]
            atol = OUTPUT_ATOL if k == "output" else GRAD_ATOL
            if v.dtype != ref.dtype or v.shape != ref.shape:
                failures.append(f"{name}: {k} dtype/shape {v.dtype}{tuple(v.shape)} vs {ref.dtype}{tuple(ref.shape)}")
            elif v.is_floating_point():
                if not torch.allclose(v, ref, atol=atol, rtol=0):
                    failures.append(f"{name}: {k} max diff {(v - ref).abs().max().item():.3g}")
            elif not torch.equal(v, ref):
                failures.append(f"{name}: {k} differs")
    for msg in failures:
        print("FAIL", msg)
    print(f"make_golden --check: {len(names) - len({m.split(':')[0] for m in failures})}/{len(names)} "
          f"cases reproduce ({in_dir}, {time.perf_counter() - t0:.2f}s)")
    return not failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", metavar="DIR", help="write the golden files to DIR")
    group.add_argument("--check", metavar="DIR", help="reload DIR's files and verify they reproduce")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.out:
        write(args.out)
        return 0
    return 0 if check(args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
