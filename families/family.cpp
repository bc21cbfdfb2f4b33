#include "torchzoo/families/family.h"

#include <ostream>
#include <stdexcept>

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
                                  family.what, family.model.name, module()->name()));
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

std::string FamilyModel::generate(const Config&, const GenerateRequest&) const {
  unsupported("generate", "a decoder_only_lm model can");
}

}  // namespace torchzoo::families
