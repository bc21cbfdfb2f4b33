"""Golden-value cases for the Vision Transformer pieces (reference: vit_reference.py).

make_golden.py imports this module and writes / checks these cases next to the
annotated-Transformer ones: same spec dict (module, inputs, run, grad,
grad_inputs) and the same file keys (param.*, input.*, output, loss_weights,
grad.*, grad_input.*). Every module has dropout and drop-path 0 and runs in
eval mode; batch 2, embed dim 16, 4 heads.

This module does not import make_golden (make_golden imports it), so it has
its own seeds and parameter rule:

  inputs        torch.Generator seeded 2000 + index in CASES
  loss_weights  seeded 6000 + index in CASES (spec["weights_seed"])
  parameters    parameter number i (named_parameters order) is built from the
                same sine as make_golden.set_deterministic_params,
                base = sin(0.37 k + 1.1 i + 0.013 k^2 + 0.031 i^2 k) over its
                flat index k (float64), then
                  LayerNorm weight        1 + 0.1 base
                  LayerNorm bias          0.1 base
                  cls_token, pos_embed,
                  LayerScale gamma        0.5 base
                  other vectors (biases)  0.1 base
                  matrices, conv kernels  base / sqrt(fan_in), fan_in = prod(shape[1:])
"""

import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vit  # noqa: E402

B = 2
D = 16
H = 4
IMG = 8
PATCH = 4
IN_CHANS = 3
NUM_CLASSES = 5
TOKENS = 5


def _sine_base(i, p):
    k = torch.arange(p.numel(), dtype=torch.float64)
    return torch.sin(0.37 * k + 1.1 * i + 0.013 * k * k + 0.031 * i * i * k).reshape(p.shape)


def set_vit_params(module):
    "Deterministic parameters by the rule in the module docstring (LayerNorms told apart by type)."
    layer_norm_params = {
        f"{mname}.{pname}" if mname else pname
        for mname, m in module.named_modules() if isinstance(m, nn.LayerNorm)
        for pname, _ in m.named_parameters(recurse=False)
    }
    with torch.no_grad():
        for i, (name, p) in enumerate(module.named_parameters()):
            base = _sine_base(i, p)
            leaf = name.rsplit(".", 1)[-1]
            if name in layer_norm_params:
                value = 1.0 + 0.1 * base if leaf == "weight" else 0.1 * base
            elif leaf in ("cls_token", "pos_embed", "gamma"):
                value = 0.5 * base
            elif p.dim() == 1:
                value = 0.1 * base
            else:
                value = base / math.sqrt(math.prod(p.shape[1:]))
            p.copy_(value.to(p.dtype))
    return module


# ----------------------------------------------------------------------------
# cases: each takes a seeded torch.Generator and returns dict(module, inputs, run, ...)


def _randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def _unary(module, x):
    return dict(module=module, inputs={"x": x}, run=lambda m, i: m(i["x"]), grad_inputs=["x"])


def case_vit_patch_embed(g):
    return _unary(vit.PatchEmbed(img_size=IMG, patch_size=PATCH, in_chans=IN_CHANS, embed_dim=D),
                  _randn(g, B, IN_CHANS, IMG, IMG))


def case_vit_attention(g):
    return _unary(vit.Attention(D, num_heads=H, qkv_bias=True), _randn(g, B, TOKENS, D))


def case_vit_attention_no_qkv_bias(g):
    return _unary(vit.Attention(D, num_heads=H, qkv_bias=False), _randn(g, B, TOKENS, D))


def case_vit_mlp(g):
    return _unary(vit.Mlp(D, hidden_features=2 * D, out_features=D), _randn(g, B, TOKENS, D))


def case_vit_block(g):
    return _unary(vit.Block(D, num_heads=H, mlp_ratio=2.0, qkv_bias=True), _randn(g, B, TOKENS, D))


def case_vit_block_layer_scale(g):
    return _unary(vit.Block(D, num_heads=H, mlp_ratio=2.0, qkv_bias=True, init_values=0.5),
                  _randn(g, B, TOKENS, D))


def _vit(global_pool):
    return vit.VisionTransformer(img_size=IMG, patch_size=PATCH, in_chans=IN_CHANS, num_classes=NUM_CLASSES,
                                 global_pool=global_pool, embed_dim=D, depth=2, num_heads=H, mlp_ratio=2.0,
                                 qkv_bias=True)


def case_vit_token(g):
    return _unary(_vit("token"), _randn(g, B, IN_CHANS, IMG, IMG))


def case_vit_avg(g):
    return _unary(_vit("avg"), _randn(g, B, IN_CHANS, IMG, IMG))


def case_vit_resample_pos_embed(g):
    inputs = {"pos_embed": _randn(g, 1, 1 + 2 * 2, D),
              "new_size": torch.tensor([3, 3], dtype=torch.int64),
              "old_size": torch.tensor([2, 2], dtype=torch.int64),
              "num_prefix_tokens": torch.tensor(1, dtype=torch.int64)}

    def run(_, i):
        return vit.resample_abs_pos_embed(i["pos_embed"], tuple(i["new_size"].tolist()),
                                          old_size=tuple(i["old_size"].tolist()),
                                          num_prefix_tokens=int(i["num_prefix_tokens"]))

    return dict(module=None, inputs=inputs, run=run, grad=False)


CASES = [
    "vit_patch_embed",
    "vit_attention",
    "vit_attention_no_qkv_bias",
    "vit_mlp",
    "vit_block",
    "vit_block_layer_scale",
    "vit_token",
    "vit_avg",
    "vit_resample_pos_embed",
]


def build(name):
    "Returns the case spec with deterministic params and inputs (module in eval mode)."
    index = CASES.index(name)
    spec = globals()["case_" + name](torch.Generator().manual_seed(2000 + index))
    spec.setdefault("grad", True)
    spec.setdefault("grad_inputs", [])
    spec["weights_seed"] = 6000 + index
    if spec["module"] is not None:
        set_vit_params(spec["module"])
        spec["module"].eval()
    return spec
