#include "golden.h"

#include <catch2/catch.hpp>
#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace torchzoo::testing {
namespace {

std::string join(const std::set<std::string>& names) {
  std::ostringstream out;
  for (const auto& name : names) {
    out << (out.tellp() > 0 ? ", " : "") << name;
  }
  return "{" + out.str() + "}";
}

std::set<std::string> keys(const Tensors& tensors) {
  std::set<std::string> names;
  for (const auto& item : tensors) {
    names.insert(item.first);
  }
  return names;
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& name : a) {
    if (!b.count(name)) out.insert(name);
  }
  return out;
}

std::set<std::string> parameter_names(const torch::nn::Module& module) {
  std::set<std::string> names;
  for (const auto& item : module.named_parameters()) {
    names.insert(item.key());
  }
  return names;
}

// REQUIREs equal name sets; the message lists only the differences.
void require_same_names(const std::set<std::string>& module_names, const std::set<std::string>& golden_names,
                        const std::string& what) {
  const auto missing = minus(golden_names, module_names);
  const auto extra = minus(module_names, golden_names);
  INFO("golden " << what << " names the module lacks: " << join(missing));
  INFO("module parameters without golden " << what << ": " << join(extra));
  REQUIRE(missing.empty());
  REQUIRE(extra.empty());
}

}  // namespace

std::string golden_dir() { return TORCHZOO_GOLDEN_DIR; }

Golden load_golden(const std::string& case_name) {
  const auto path = golden_dir() + "/" + case_name + ".pt";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("golden file " + path +
                             " not found; write it with `python3 tests/reference/make_golden.py --out " + golden_dir() +
                             "` (ctest runs that as the golden_values fixture)");
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Golden golden;
  try {
    const torch::IValue value = torch::pickle_load(bytes);
    for (const auto& item : value.toGenericDict()) {
      golden.emplace(item.key().toStringRef(), item.value().toTensor());
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read golden file " + path + ": " + e.what());
  }
  return golden;
}

const torch::Tensor& golden_value(const Golden& golden, const std::string& key) {
  const auto it = golden.find(key);
  if (it == golden.end()) {
    throw std::runtime_error("golden value '" + key + "' missing; keys are " + join(keys(golden)));
  }
  return it->second;
}

Tensors with_prefix(const Golden& golden, const std::string& prefix) {
  Tensors out;
  for (const auto& [key, tensor] : golden) {
    if (key.compare(0, prefix.size(), prefix) == 0) {
      out.emplace(key.substr(prefix.size()), tensor);
    }
  }
  return out;
}

void load_parameters(torch::nn::Module& module, const Golden& golden) {
  const auto params = with_prefix(golden, "param.");
  require_same_names(parameter_names(module), keys(params), "param.*");

  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    const auto& value = params.at(item.key());
    INFO("parameter " << item.key() << ": module " << item.value().sizes() << ", golden " << value.sizes());
    REQUIRE(item.value().sizes() == value.sizes());
    item.value().copy_(value);
  }
}

Tensors inputs(const Golden& golden) {
  Tensors out;
  for (const auto& [name, tensor] : with_prefix(golden, "input.")) {
    auto copy = tensor.clone();
    if (golden.count("grad_input." + name)) {
      copy.requires_grad_(true);
    }
    out.emplace(name, copy);
  }
  return out;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.detach().to(torch::kDouble) - b.detach().to(torch::kDouble)).abs().max().item<double>();
}

void check_close(const torch::Tensor& got, const torch::Tensor& expected, double atol, const std::string& what) {
  INFO(what << ": got " << got.sizes() << " " << got.scalar_type() << ", expected " << expected.sizes() << " "
            << expected.scalar_type());
  REQUIRE(got.defined());
  REQUIRE(got.sizes() == expected.sizes());
  REQUIRE(got.scalar_type() == expected.scalar_type());
  if (expected.is_floating_point()) {
    INFO(what << ": max abs difference " << max_abs_diff(got, expected) << " (atol " << atol << ")");
    CHECK(torch::allclose(got.detach(), expected, /*rtol=*/0.0, atol));
  } else {
    INFO(what << ": " << got.ne(expected).sum().item<int64_t>() << " elements differ");
    CHECK(torch::equal(got, expected));
  }
}

void check_parity(torch::nn::Module& module, const torch::Tensor& output, const Golden& golden,
                  const Tensors& inputs) {
  check_close(output, golden_value(golden, "output"), kOutputAtol, "output");

  module.zero_grad();
  (output * golden_value(golden, "loss_weights")).sum().backward();

  const auto grads = with_prefix(golden, "grad.");
  require_same_names(parameter_names(module), keys(grads), "grad.*");
  for (const auto& item : module.named_parameters()) {
    // The reference stores zeros for a parameter the loss does not reach.
    const auto grad = item.value().grad().defined() ? item.value().grad() : torch::zeros_like(item.value());
    check_close(grad, grads.at(item.key()), kGradAtol, "grad." + item.key());
  }

  const auto input_grads = with_prefix(golden, "grad_input.");
  for (const auto& [name, expected] : input_grads) {
    const auto it = inputs.find(name);
    INFO("grad_input." << name);
    REQUIRE(it != inputs.end());
    REQUIRE(it->second.grad().defined());
    check_close(it->second.grad(), expected, kGradAtol, "grad_input." + name);
  }
}

}  // namespace torchzoo::testing
