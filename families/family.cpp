#include "torchzoo/families/family.h"

#include <ostream>
#include <stdexcept>

#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/registry.h"

namespace torchzoo::families {

void FamilyModel::unsupported(const std::string& verb, const std::string& who_can) const {
  throw std::invalid_argument(fmt::format("a {} model cannot {}; {}", family_name(), verb, who_can));
}

torch::Device FamilyModel::device() const {
  const auto parameters = module()->parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

Section FamilyModel::data_section(const Config& config) const {
  auto data = config.section("data");
  const auto& family = *configs::lookup(task_registry(), data);
  if (family.name != family_name()) {
    data.fail("name", fmt::format("data '{}' trains {} (model.name: {}), got a {}", data.require<std::string>("name"),
                                  family.what, family.models.front().name, module()->name()));
  }
  return data;
}

void FamilyModel::eval(const Config& config, const EvalRequest& request, std::ostream& out) const {
  if (request.split != "valid") {
    throw UsageError("--split", fmt::format("this task has only a valid split, got '{}'", request.split));
  }
  auto task = build_task(config);
  task->to(device());
  auto metrics = task->evaluate();
  out << fmt::format("eval {} on {}", request.checkpoint, request.config_path);
  for (const auto& [metric, value] : metrics) out << fmt::format(" | valid {} {:.4f}", metric, value);
  out << "\n";
}

void FamilyModel::predict(const Config&, const PredictRequest&, std::istream&, std::ostream&) const {
  unsupported("predict", "image and text classifiers can");
}

std::vector<int64_t> FamilyModel::decode(const Config&, const std::vector<int64_t>&, int64_t) const {
  unsupported("decode token ids", "a sequence-to-sequence model trained on the copy task can");
}

train::Translator FamilyModel::translator(const Config&) const {
  unsupported("translate", "an encoder_decoder model trained on translation data can");
}

std::vector<std::string> FamilyModel::generate(const Config&, const GenerateRequest&) const {
  unsupported("generate", "a decoder_only_lm model can");
}

AttentionView FamilyModel::attention(const Config&, const AttentionRequest&) const {
  unsupported("show its attention", "translation, image and text classification models can");
}

std::pair<std::vector<std::string>, torch::Tensor> layer_or_head_maps(const std::vector<torch::Tensor>& layers,
                                                                      const AttentionRequest& request) {
  TORCHZOO_CHECK(!layers.empty(), "layer_or_head_maps: no attention was recorded");
  const auto count = static_cast<int64_t>(layers.size());
  std::vector<std::string> titles;
  std::vector<torch::Tensor> maps;
  if (!request.heads) {
    for (int64_t i = 0; i < count; ++i) {
      maps.push_back(layers[static_cast<size_t>(i)].mean(0));
      titles.push_back(fmt::format("layer {} (mean of {} heads)", i + 1, layers[static_cast<size_t>(i)].size(0)));
    }
    if (count > 1) {
      maps.push_back(torch::stack(maps).mean(0));
      titles.push_back(fmt::format("mean of all {} layers", count));
    }
    return {titles, torch::stack(maps)};
  }
  const int64_t layer = request.layer < 0 ? count - 1 : request.layer;
  if (layer >= count) {
    throw UsageError(
        "--layer", fmt::format("the model has {} attention layers (0 to {}), got {}", count, count - 1, request.layer));
  }
  const auto& heads = layers[static_cast<size_t>(layer)];  // [h, R, C]
  for (int64_t h = 0; h < heads.size(0); ++h) {
    maps.push_back(heads[h]);
    titles.push_back(fmt::format("layer {}, head {}", layer + 1, h + 1));
  }
  maps.push_back(heads.mean(0));
  titles.push_back(fmt::format("layer {}, mean of {} heads", layer + 1, heads.size(0)));
  return {titles, torch::stack(maps)};
}

}  // namespace torchzoo::families
