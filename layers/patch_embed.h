#pragma once
// Image to patch embeddings (Dosovitskiy et al. 2021, section 3.1; timm's
// PatchEmbed): a convolution whose kernel and stride are the patch size, so
// each non-overlapping patch is linearly projected to embed_dim.
//
// Shapes: x [B, in_chans, img_size, img_size] -> [B, N, embed_dim],
//         N = (img_size / patch_size)^2, patches in row-major order.
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of PatchEmbed: image and patch sizes, channels and the embedding width.
struct PatchEmbedOptions {
  PatchEmbedOptions(int64_t img_size, int64_t patch_size, int64_t in_chans, int64_t embed_dim)
      : img_size_(img_size), patch_size_(patch_size), in_chans_(in_chans), embed_dim_(embed_dim) {}
  /// Side of the (square) input image; must be a multiple of patch_size.
  TORCH_ARG(int64_t, img_size);
  /// Side of a square patch.
  TORCH_ARG(int64_t, patch_size);
  /// Input channels (1 for Fashion-MNIST, 3 for RGB).
  TORCH_ARG(int64_t, in_chans);
  /// Width of each patch embedding.
  TORCH_ARG(int64_t, embed_dim);
  /// Whether the projection has a bias (timm's default: yes).
  TORCH_ARG(bool, bias) = true;

 public:
  /// Patches per side.
  int64_t grid_size() const { return img_size_ / patch_size_; }
  /// Patches per image, N.
  int64_t num_patches() const { return grid_size() * grid_size(); }
};

/// Image to patch embeddings (Dosovitskiy et al. 2021, section 3.1; timm's PatchEmbed): a
/// convolution `proj` with kernel and stride the patch size; used through the module holder
/// PatchEmbed.
///
/// Example:
///   PatchEmbed embed(PatchEmbedOptions(28, 4, 1, 192));
///   auto tokens = embed(images);  // [B, 1, 28, 28] -> [B, 49, 192]
class PatchEmbedImpl : public torch::nn::Cloneable<PatchEmbedImpl> {
 public:
  explicit PatchEmbedImpl(PatchEmbedOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [B, in_chans, img_size, img_size] -> [B, N, embed_dim], patches in row-major order.
  torch::Tensor forward(const torch::Tensor& x);

  PatchEmbedOptions options;
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

}  // namespace torchzoo::layers
