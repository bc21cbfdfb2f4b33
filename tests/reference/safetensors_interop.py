#!/usr/bin/env python3
"""Weights exchanged through safetensors between torchzoo and the PyTorch references.

For each model family (encoder_decoder, vision_transformer,
transformer_encoder_classifier, decoder_only_lm) the reference below is built
with the options of tests/train/test_safetensors.cpp's C++ model (small:
d_model 32, 2 layers, dropout 0); parameter and buffer names are the
references' state_dict keys, which torchzoo's modules use.

    python3 safetensors_interop.py check DIR   # C++ -> Python
        reads DIR/<family>.weights.safetensors (written by torchzoo) into the
        reference with load_state_dict(strict=True), runs DIR/<family>.io.safetensors's
        input.* through it in eval mode and compares with its `output` (what
        torchzoo computed); also checks DIR/dtypes.safetensors (one tensor per dtype).
    python3 safetensors_interop.py make DIR    # Python -> C++
        builds each reference with a fixed seed, trains it a few Adam steps on
        random data, writes its state_dict to DIR/<family>.weights.safetensors
        (safetensors.torch.save_file) and inputs plus the reference's eval-mode
        output to DIR/<family>.io.safetensors; also DIR/dtypes.safetensors.

Families whose files are missing are skipped by `check` (the C++ test writes
them all). Prints one line per family with the max abs error; exits 1 if any
exceeds ATOL or a load fails.

I/O file keys: input.<name> (tokens int64, masks bool with true = may attend,
images float32) and output (float32): log-probabilities [B, T, vocab] for
encoder_decoder (generator(forward(src, tgt, src_mask, tgt_mask))) and
decoder_only_lm (generator(forward(tokens, mask))), logits [B, classes] for the
classifiers.
"""

import argparse
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import annotated_transformer as at  # noqa: E402
import encoder_only_and_lm  # noqa: E402
import vit_reference as vit  # noqa: E402

ATOL = 1e-5
VOCAB = 13
PAD = 0
B = 2
D_MODEL = 32
D_FF = 64
HEADS = 4
LAYERS = 2
NUM_CLASSES = 3

# The dtypes file: tensor <name> is pattern(dtype) (C++ builds the same pattern).
DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


def dtype_pattern(dtype):
    "[2, 3] values exact in every dtype: k * 0.5 - 1 for floats, k - 2 (k for U8) for integers, k odd for BOOL."
    k = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    if dtype == torch.bool:
        return (k.long() % 2) == 1
    if dtype.is_floating_point:
        return (k * 0.5 - 1).to(dtype)
    return (k if dtype == torch.uint8 else k - 2).to(dtype)


# ----------------------------------------------------------------------------
# the families: reference model (C++ options in the comment) and inputs


def tokens(g, rows, cols, pad_last):
    "int64 tokens in [1, VOCAB), first one never PAD; row r's last pad_last[r] are PAD."
    t = torch.randint(1, VOCAB, (rows, cols), generator=g, dtype=torch.int64)
    for r, n in enumerate(pad_last):
        if n:
            t[r, cols - n:] = PAD
    return t


def encoder_decoder():
    # EncoderDecoderOptions(13, 13).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0)
    return at.make_model(VOCAB, VOCAB, N=LAYERS, d_model=D_MODEL, d_ff=D_FF, h=HEADS, dropout=0.0)


def encoder_decoder_inputs(g):
    src = tokens(g, B, 7, (0, 2))
    tgt = tokens(g, B, 6, (0, 2))
    return {"src": src, "tgt": tgt, "src_mask": (src != PAD).unsqueeze(-2),
            "tgt_mask": at.Batch.make_std_mask(tgt, PAD)}


def encoder_decoder_run(m, i):
    return m.generator(m(i["src"], i["tgt"], i["src_mask"], i["tgt_mask"]))  # [B, T_tgt, VOCAB]


def vision_transformer():
    # VisionTransformerOptions().img_size(8).patch_size(4).in_chans(3).num_classes(3).embed_dim(32)
    #     .depth(2).num_heads(4).mlp_ratio(2.0)
    return vit.VisionTransformer(img_size=8, patch_size=4, in_chans=3, num_classes=NUM_CLASSES,
                                 global_pool="token", embed_dim=D_MODEL, depth=LAYERS, num_heads=HEADS,
                                 mlp_ratio=2.0, qkv_bias=True)


def vision_transformer_inputs(g):
    return {"x": torch.randn(B, 3, 8, 8, generator=g)}


def vision_transformer_run(m, i):
    return m(i["x"])  # [B, NUM_CLASSES]


def transformer_encoder_classifier():
    # TransformerEncoderClassifierOptions(13, 3).num_layers(2).d_model(32).d_ff(64).num_heads(4)
    #     .dropout(0).max_len(64): sinusoidal positions (the pe buffer), cls pooling
    return encoder_only_and_lm.EncoderClassifier(VOCAB, NUM_CLASSES, N=LAYERS, d_model=D_MODEL, d_ff=D_FF,
                                                 h=HEADS, dropout=0.0, max_len=64)


def transformer_encoder_classifier_inputs(g):
    t = tokens(g, B, 7, (0, 3))
    return {"tokens": t, "mask": (t != PAD).unsqueeze(-2)}


def transformer_encoder_classifier_run(m, i):
    return m(i["tokens"], i["mask"])  # [B, NUM_CLASSES]


def decoder_only_lm():
    # DecoderOnlyLMOptions(13).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0).max_len(64):
    # learned positions, GELU
    return encoder_only_and_lm.DecoderOnlyLM(VOCAB, N=LAYERS, d_model=D_MODEL, d_ff=D_FF, h=HEADS,
                                             dropout=0.0, max_len=64)


def decoder_only_lm_inputs(g):
    t = tokens(g, B, 7, (0, 2))
    return {"tokens": t, "mask": at.Batch.make_std_mask(t, PAD)}


def decoder_only_lm_run(m, i):
    return m.generator(m(i["tokens"], i["mask"]))  # [B, T, VOCAB]


FAMILIES = ["encoder_decoder", "vision_transformer", "transformer_encoder_classifier", "decoder_only_lm"]


def family(name):
    g = globals()
    return g[name], g[name + "_inputs"], g[name + "_run"]


def training_loss(name, output, g):
    "A loss on random targets, only to move the weights away from their initial values."
    if output.dim() == 3:  # log-probabilities [B, T, VOCAB]
        target = torch.randint(1, VOCAB, output.shape[:2], generator=g)
        return torch.nn.functional.nll_loss(output.reshape(-1, VOCAB), target.reshape(-1))
    target = torch.randint(0, NUM_CLASSES, (output.size(0),), generator=g)
    return torch.nn.functional.cross_entropy(output, target)


# ----------------------------------------------------------------------------


def make(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for index, name in enumerate(FAMILIES):
        build, make_inputs, run = family(name)
        torch.manual_seed(100 + index)
        model = build()
        g = torch.Generator().manual_seed(200 + index)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(5):
            optimizer.zero_grad()
            loss = training_loss(name, run(model, make_inputs(g)), g)
            loss.backward()
            optimizer.step()
        model.eval()
        inputs = make_inputs(g)
        with torch.no_grad():
            output = run(model, inputs)
        # Clones: save_file refuses tensors that share memory (tied weights would).
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(out_dir, name + ".weights.safetensors"),
                  metadata={"format": "pt", "torchzoo.model": name})
        io = {"input." + k: v.contiguous() for k, v in inputs.items()}
        io["output"] = output.contiguous()
        save_file(io, os.path.join(out_dir, name + ".io.safetensors"))
        print(f"{name}: trained 5 steps (last loss {loss.item():.4f}), wrote {len(state)} tensors")
    save_file({k: dtype_pattern(v) for k, v in DTYPES.items()}, os.path.join(out_dir, "dtypes.safetensors"),
              metadata={"writer": "safetensors_interop.py"})
    return True


def check(in_dir):
    ok = True
    checked = 0
    for name in FAMILIES:
        weights_path = os.path.join(in_dir, name + ".weights.safetensors")
        if not os.path.exists(weights_path):
            continue
        build, _, run = family(name)
        torch.manual_seed(0)
        model = build()
        with torch.no_grad():  # scramble first so that only the file's values count
            for p in model.parameters():
                p.fill_(0.123)
        state = load_file(weights_path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            print(f"FAIL {name}: load_state_dict(strict=True): {e}")
            ok = False
            continue
        with safe_open(weights_path, framework="pt") as f:
            metadata = f.metadata() or {}
        if metadata.get("torchzoo.model") != name:
            print(f"FAIL {name}: metadata torchzoo.model is {metadata.get('torchzoo.model')!r}, expected {name!r}")
            ok = False
        io = load_file(os.path.join(in_dir, name + ".io.safetensors"))
        inputs = {k[len("input."):]: v for k, v in io.items() if k.startswith("input.")}
        model.eval()
        with torch.no_grad():
            output = run(model, inputs)
        expected = io["output"]
        if output.shape != expected.shape or output.dtype != expected.dtype:
            print(f"FAIL {name}: output {output.dtype}{tuple(output.shape)}, torchzoo's "
                  f"{expected.dtype}{tuple(expected.shape)}")
            ok = False
            continue
        err = (output - expected).abs().max().item()
        status = "ok" if err <= ATOL else "FAIL"
        ok = ok and err <= ATOL
        print(f"{status} {name}: {len(state)} tensors loaded strictly, max abs error {err:.3g} (atol {ATOL:g})")
        checked += 1

    dtypes_path = os.path.join(in_dir, "dtypes.safetensors")
    if os.path.exists(dtypes_path):
        got = load_file(dtypes_path)
        if set(got) != set(DTYPES):
            print(f"FAIL dtypes: keys {sorted(got)}, expected {sorted(DTYPES)}")
            ok = False
        else:
            for key, dtype in DTYPES.items():
                if got[key].dtype != dtype or not torch.equal(got[key], dtype_pattern(dtype)):
                    print(f"FAIL dtypes: {key} is {got[key].dtype} {got[key].tolist()}, "
                          f"expected {dtype} {dtype_pattern(dtype).tolist()}")
                    ok = False
            print(f"dtypes: {len(got)} tensors read")
    if checked == 0:
        print(f"FAIL: no <family>.weights.safetensors in {in_dir}")
        ok = False
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["check", "make"])
    parser.add_argument("dir")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ok = check(args.dir) if args.mode == "check" else make(args.dir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
