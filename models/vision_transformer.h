#pragma once
// Vision Transformer for image classification (Dosovitskiy et al. 2021; timm's
// VisionTransformer): patches are embedded, a learned class token is prepended,
// learned position embeddings are added, and a stack of pre-norm blocks runs;
// the class token (or the mean of the patch tokens) goes to a linear head.
//
// Parameter names equal timm's state_dict keys:
//   cls_token, pos_embed, patch_embed.proj.weight, blocks.0.norm1.weight,
//   blocks.0.attn.qkv.weight, blocks.0.attn.proj.weight, blocks.0.ls1.gamma,
//   blocks.0.mlp.fc1.weight, norm.weight (token pool) or fc_norm.weight (avg pool),
//   head.weight
//
// Shapes: images [B, in_chans, img_size, img_size] -> logits [B, num_classes];
//         tokens inside [B, 1 + N, embed_dim], N = (img_size / patch_size)^2.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/patch_embed.h"
#include "torchzoo/layers/vit_block.h"

namespace torchzoo::models {

/// How the token sequence becomes one vector for the head.
enum class GlobalPool { kToken, kAvg };
/// "token" or "avg"; throws on anything else.
GlobalPool global_pool_from_string(const std::string& name);
/// "token" or "avg".
std::string to_string(GlobalPool pool);

/// Defaults are ViT-Tiny's widths (embed 192, depth 12, 3 heads) on 28x28 grey images in patches of 4.
struct VisionTransformerOptions {
  /// Side of the square input image; a multiple of patch_size.
  TORCH_ARG(int64_t, img_size) = 28;
  /// Side of a square patch.
  TORCH_ARG(int64_t, patch_size) = 4;
  /// Input channels (1: grey, 3: RGB).
  TORCH_ARG(int64_t, in_chans) = 1;
  /// Classes the head scores.
  TORCH_ARG(int64_t, num_classes) = 10;
  /// Token width.
  TORCH_ARG(int64_t, embed_dim) = 192;
  /// Number of blocks.
  TORCH_ARG(int64_t, depth) = 12;
  /// Attention heads of every block.
  TORCH_ARG(int64_t, num_heads) = 3;
  /// MLP hidden width over embed_dim.
  TORCH_ARG(double, mlp_ratio) = 4.0;
  /// Bias on the attention's qkv projection.
  TORCH_ARG(bool, qkv_bias) = true;
  /// Class token ("token") or mean of the patch tokens ("avg", with fc_norm instead of norm).
  TORCH_ARG(GlobalPool, global_pool) = GlobalPool::kToken;
  /// LayerScale initial gain in every block; none: no LayerScale.
  TORCH_ARG(std::optional<double>, init_values) = std::nullopt;
  /// Dropout after the position embedding, in the blocks' projections and MLPs, and before the head.
  TORCH_ARG(double, drop_rate) = 0.0;
  /// Dropout on the attention weights.
  TORCH_ARG(double, attn_drop_rate) = 0.0;
  /// Stochastic depth, rising linearly from 0 in the first block to this in the last.
  TORCH_ARG(double, drop_path_rate) = 0.0;
  /// Attention through at::scaled_dot_product_attention.
  TORCH_ARG(bool, fused_attention) = true;

 public:
  /// Named shapes for 28x28 inputs in patches of 4 (7x7 = 49 patches):
  ///   vit_tiny  (embed 192, depth 12, 3 heads), vit_small (384, 12, 6),
  ///   vit_mini  (128, 6, 4): a model sized to train on two CPU cores.
  static VisionTransformerOptions preset(const std::string& name);
  /// The names preset() takes.
  static std::vector<std::string> preset_names();
  /// Patches per side.
  int64_t grid_size() const { return img_size_ / patch_size_; }
  /// Patches per image, N.
  int64_t num_patches() const { return grid_size() * grid_size(); }
};

/// Vision Transformer for image classification (Dosovitskiy et al. 2021; timm's VisionTransformer) with
/// timm's parameter names; used through the module holder VisionTransformer.
///
/// Example:
///   VisionTransformer vit(VisionTransformerOptions::preset("vit_tiny").num_classes(10));
///   auto logits = vit(images);  // [B, 1, 28, 28] -> [B, 10]
class VisionTransformerImpl : public torch::nn::Cloneable<VisionTransformerImpl> {
 public:
  explicit VisionTransformerImpl(VisionTransformerOptions options = {});
  void reset() override;
  /// timm's initialisation: position embedding N(0, 0.02), class token N(0, 1e-6), linear
  /// weights N(0, 0.02) with zero biases, LayerNorms at one and zero; the patch projection
  /// keeps PyTorch's default (as timm's default init mode does).
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  /// images [B, C, H, W] -> normalised tokens [B, 1 + N, embed_dim]
  torch::Tensor forward_features(const torch::Tensor& images);
  /// tokens [B, 1 + N, embed_dim] -> logits [B, num_classes]
  torch::Tensor forward_head(const torch::Tensor& tokens);
  /// images [B, in_chans, img_size, img_size] -> logits [B, num_classes].
  torch::Tensor forward(const torch::Tensor& images);

  VisionTransformerOptions options;
  layers::PatchEmbed patch_embed{nullptr};
  torch::Tensor cls_token;  ///< [1, 1, embed_dim]
  torch::Tensor pos_embed;  ///< [1, 1 + N, embed_dim]
  layers::Dropout pos_drop{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};     ///< token pooling only
  torch::nn::LayerNorm fc_norm{nullptr};  ///< average pooling only
  layers::Dropout head_drop{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(VisionTransformer);

/// Resamples a learned position embedding [1, prefix + gh*gw, D] to a new patch
/// grid [1, prefix + new_h*new_w, D] by bilinear interpolation over the grid
/// (align_corners false, no antialiasing); the `num_prefix_tokens` leading
/// entries (the class token's) are kept as they are. As timm's
/// resample_abs_pos_embed with interpolation='bilinear', antialias=False.
torch::Tensor resample_abs_pos_embed(const torch::Tensor& pos_embed, std::array<int64_t, 2> new_grid,
                                     std::array<int64_t, 2> old_grid, int64_t num_prefix_tokens = 1);

/// `pos_embed` [1, 1 + g*g, D] of weights trained on another image size, resampled to `model`'s
/// patch grid; returned as it is when it already has the model's shape. Errors when it is not one
/// class token and a square grid of the model's width.
torch::Tensor fit_pos_embed(const VisionTransformerImpl& model, const torch::Tensor& pos_embed);

/// Copies `state` (name -> tensor, e.g. a checkpoint's or timm's state_dict) into `model`,
/// resampling `pos_embed` when it was trained on another image size. Every other
/// tensor must match in name and shape; errors name the key and both shapes.
void load_vit_state(VisionTransformerImpl& model, const std::map<std::string, torch::Tensor>& state);

}  // namespace torchzoo::models
