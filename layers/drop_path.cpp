#include "torchzoo/layers/drop_path.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

DropPathImpl::DropPathImpl(DropPathOptions options) : options(options) { reset(); }

void DropPathImpl::reset() {
  TORCHZOO_CHECK(options.p() >= 0 && options.p() < 1, "DropPath: p must be in [0, 1), got {}", options.p());
}

void DropPathImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::DropPath(p={})", options.p());
}

torch::Tensor DropPathImpl::forward(const torch::Tensor& x) {
  if (!is_training() || options.p() == 0.0) {
    return x;
  }
  const double keep = 1.0 - options.p();
  std::vector<int64_t> mask_shape(static_cast<size_t>(x.dim()), 1);
  mask_shape[0] = x.size(0);
  auto mask = torch::empty(mask_shape, x.options()).bernoulli_(keep);  // [B, 1, ..., 1]
  return x * mask / keep;
}

}  // namespace torchzoo::layers
