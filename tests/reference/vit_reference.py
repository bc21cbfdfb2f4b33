"""PyTorch reference of the Vision Transformer pieces of timm (``vision_transformer.py``).

Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021; layer scale from
Touvron et al., "Going deeper with Image Transformers" (CaiT), 2021.

Written for torchzoo's parity tests, from scratch, following the structure,
argument names and submodule names of timm so that state_dict keys match those
of timm checkpoints and of the C++ modules, e.g.

    cls_token, pos_embed, patch_embed.proj.weight, blocks.0.norm1.weight,
    blocks.0.attn.qkv.weight, blocks.0.attn.proj.bias, blocks.0.ls1.gamma,
    blocks.0.mlp.fc1.weight, blocks.0.mlp.fc2.bias, norm.weight, fc_norm.weight,
    head.weight

Shapes: images [B, C, H, W]; token sequences [B, N, D] (N tokens, D = embed_dim);
attention works on [B, heads, N, head_dim].

Scope (a subset of timm's options): always one class token, no register tokens,
absolute position embedding added to class + patch tokens (no_embed_class=False),
pre-norm blocks, LayerNorm(eps=1e-6) everywhere, exact (erf) GELU, no q/k norm,
pools 'token' and 'avg'. With global_pool='avg' the class token is still there
(timm's default class_token=True) but the pool averages the patch tokens only.

Only deviation from timm's defaults: resample_abs_pos_embed interpolates
bilinearly without antialiasing by default (timm: bicubic, antialias=True);
both are arguments.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "PatchEmbed", "Attention", "Mlp", "LayerScale", "drop_path", "DropPath", "Block",
    "VisionTransformer", "resample_abs_pos_embed",
]

LN_EPS = 1e-6


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class PatchEmbed(nn.Module):
    "Non-overlapping patches -> tokens: [B, C, H, W] -> [B, gh*gw, D], a conv with kernel = stride = patch."

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768):
        super().__init__()
        self.img_size = _pair(img_size)
        self.patch_size = _pair(patch_size)
        if any(s % p for s, p in zip(self.img_size, self.patch_size)):
            raise ValueError(f"PatchEmbed: img_size {self.img_size} is not a multiple of "
                             f"patch_size {self.patch_size}")
        self.grid_size = tuple(s // p for s, p in zip(self.img_size, self.patch_size))
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = nn.Identity()  # timm's optional norm_layer slot, unused here (no parameters)

    def forward(self, x):
        if x.dim() != 4 or tuple(x.shape[2:]) != self.img_size:
            raise ValueError(f"PatchEmbed: expected input [B, C, {self.img_size[0]}, {self.img_size[1]}], "
                             f"got {list(x.shape)}")
        x = self.proj(x)                  # [B, D, gh, gw]
        x = x.flatten(2).transpose(1, 2)  # [B, gh*gw, D]
        return self.norm(x)


class Attention(nn.Module):
    "Multi-head self-attention with one fused qkv projection."

    def __init__(self, dim, num_heads=8, qkv_bias=False, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"Attention: dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim)  # [B, N, 3, h, hd]
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)                     # 3 x [B, h, N, hd]
        attn = (q * self.scale) @ k.transpose(-2, -1)                       # [B, h, N, N]
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = attn @ v                                                        # [B, h, N, hd]
        x = x.transpose(1, 2).reshape(B, N, C)                              # [B, N, D]
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    "fc1 -> GELU -> dropout -> fc2 -> dropout."

    def __init__(self, in_features, hidden_features=None, out_features=None, drop=0.0):
        super().__init__()
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()  # exact, erf-based
        self.drop1 = nn.Dropout(drop)
        self.norm = nn.Identity()  # timm's optional norm_layer slot, unused here (no parameters)
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        x = self.drop1(self.act(self.fc1(x)))
        return self.drop2(self.fc2(self.norm(x)))


class LayerScale(nn.Module):
    "Per-channel learned scale (CaiT): x * gamma, gamma initialised to init_values."

    def __init__(self, dim, init_values=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


def drop_path(x, drop_prob=0.0, training=False, scale_by_keep=True):
    "Stochastic depth: zeroes whole samples of a residual branch with probability drop_prob."
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1.0 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep_prob)  # [B, 1, ...]
    if keep_prob > 0.0 and scale_by_keep:
        mask.div_(keep_prob)
    return x * mask


class DropPath(nn.Module):
    "Module form of drop_path; the identity in eval mode."

    def __init__(self, drop_prob=0.0, scale_by_keep=True):
        super().__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)


class Block(nn.Module):
    "Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)), each optionally layer-scaled."

    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=False, proj_drop=0.0, attn_drop=0.0,
                 init_values=None, drop_path=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=proj_drop)
        self.ls1 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path1 = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=proj_drop)
        self.ls2 = LayerScale(dim, init_values) if init_values else nn.Identity()
        self.drop_path2 = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def forward(self, x):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
        return x


class VisionTransformer(nn.Module):
    "ViT classifier: patch tokens + class token + position embedding -> blocks -> pool -> head."

    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, global_pool="token",
                 embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0, qkv_bias=True, init_values=None,
                 drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0):
        super().__init__()
        if global_pool not in ("token", "avg"):
            raise ValueError(f"VisionTransformer: global_pool must be 'token' or 'avg', got {global_pool!r}")
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.embed_dim = embed_dim
        self.num_prefix_tokens = 1  # the class token
        use_fc_norm = global_pool == "avg"

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens, embed_dim))
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = [r.item() for r in torch.linspace(0, drop_path_rate, depth)]  # stochastic depth decay rule
        self.blocks = nn.Sequential(*[
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias=qkv_bias, proj_drop=drop_rate,
                  attn_drop=attn_drop_rate, init_values=init_values, drop_path=dpr[i])
            for i in range(depth)])
        self.norm = nn.Identity() if use_fc_norm else nn.LayerNorm(embed_dim, eps=LN_EPS)
        self.fc_norm = nn.LayerNorm(embed_dim, eps=LN_EPS) if use_fc_norm else nn.Identity()
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)

    def forward_features(self, x):
        x = self.patch_embed(x)                                     # [B, N, D]
        cls = self.cls_token.expand(x.shape[0], -1, -1)             # [B, 1, D]
        x = self.pos_drop(torch.cat([cls, x], dim=1) + self.pos_embed)  # [B, 1+N, D]
        x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x):
        if self.global_pool == "avg":
            x = x[:, self.num_prefix_tokens:].mean(dim=1)           # [B, D], patch tokens only
        else:
            x = x[:, 0]                                             # [B, D], class token
        x = self.head_drop(self.fc_norm(x))
        return self.head(x)                                         # [B, num_classes]

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def resample_abs_pos_embed(pos_embed, new_size, old_size=None, num_prefix_tokens=1,
                           interpolation="bilinear", antialias=False):
    """Resizes a [1, prefix + gh*gw, D] position embedding to the grid new_size = (gh', gw').

    The prefix (class) tokens are kept as they are; the patch part is viewed as a
    [1, D, gh, gw] image and interpolated (align_corners=False). old_size defaults
    to a square grid.
    """
    new_size = _pair(new_size)
    num_pos = pos_embed.shape[1] - num_prefix_tokens
    if old_size is None:
        side = int(math.sqrt(num_pos))
        old_size = (side, side)
    old_size = _pair(old_size)
    if old_size[0] * old_size[1] != num_pos:
        raise ValueError(f"resample_abs_pos_embed: old_size {old_size} does not match {num_pos} "
                         f"patch positions in pos_embed {list(pos_embed.shape)}")
    if new_size == old_size:
        return pos_embed
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    dim = pos_embed.shape[-1]
    dtype = pos_embed.dtype
    grid = grid.float().reshape(pos_embed.shape[0], old_size[0], old_size[1], dim).permute(0, 3, 1, 2)  # [1, D, gh, gw]
    align_corners = False if interpolation in ("bilinear", "bicubic") else None  # 'nearest' takes none
    grid = F.interpolate(grid, size=new_size, mode=interpolation, align_corners=align_corners, antialias=antialias)
    grid = grid.permute(0, 2, 3, 1).reshape(pos_embed.shape[0], -1, dim).to(dtype)  # [1, gh'*gw', D]
    return torch.cat([prefix, grid], dim=1)
