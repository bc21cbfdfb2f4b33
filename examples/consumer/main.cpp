// A program outside torchzoo that uses the installed library (see README.md):
//
// 1. builds its own torch::nn module from torchzoo layers -- a Transformer
//    encoder block (MultiHeadedAttention and PositionwiseFeedForward, each in a
//    SublayerConnection) with a LayerNorm and a linear head -- and trains it for a
//    few Adam steps on a toy task; it fails unless the loss falls;
// 2. with --script, loads a TorchScript file (torch::jit::load), calls one of its
//    methods on saved inputs and compares the result with a saved output.
//
// Usage:
//   consumer [--steps N] [--script MODEL.pt --inputs IN.pt --expect OUT.pt
//             [--method forward] [--atol 1e-5] [--rtol 1e-4]]
//
// IN.pt is a list (or tuple) of tensors, the method's positional arguments, and
// OUT.pt a tensor; both as written by torch.save in Python (or torch::pickle_save
// in C++), read with torch::pickle_load. Any TorchScript file works: a module
// scripted in Python, or a model exported by `torchzoo export --format torchscript`
// with inputs and outputs saved beside it.
//
// Exit codes: 0 success, 1 the loss did not fall or the output differs, 2 usage.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <torchzoo/layers/layer_norm.h>
#include <torchzoo/layers/multi_headed_attention.h>
#include <torchzoo/layers/positionwise_feed_forward.h>
#include <torchzoo/layers/sublayer_connection.h>

// torchzoo::layers (through torchzoo::common) puts the fmt that torchzoo links first on the include path,
// ahead of the copy inside LibTorch's include folder; TORCHZOO_FMT_VERSION comes
// with it.
static_assert(FMT_VERSION == TORCHZOO_FMT_VERSION, "compiled against another fmt than the one torchzoo links");

namespace tl = torchzoo::layers;

struct SequenceRegressorOptions {
  SequenceRegressorOptions(int64_t d_model, int64_t num_heads) : d_model_(d_model), num_heads_(num_heads) {}
  /// Width of the inputs and of the block.
  TORCH_ARG(int64_t, d_model);
  /// Attention heads; must divide d_model.
  TORCH_ARG(int64_t, num_heads);
  /// Hidden width of the feed-forward sublayer.
  TORCH_ARG(int64_t, d_ff) = 64;
  /// Dropout in the attention, the feed-forward sublayer and the residual connections.
  TORCH_ARG(double, dropout) = 0.0;
};

/// One pre-norm Transformer encoder block from torchzoo's layers, then LayerNorm
/// and a linear head: x [B, T, d_model], mask bool [B, 1, T] (true = may attend)
/// -> one value per position [B, T].
///
/// Example:
///   SequenceRegressor model(SequenceRegressorOptions(32, 4).d_ff(64));
///   auto y = model(x, mask);  // [B, T]
class SequenceRegressorImpl : public torch::nn::Cloneable<SequenceRegressorImpl> {
 public:
  explicit SequenceRegressorImpl(SequenceRegressorOptions options) : options(std::move(options)) { reset(); }

  void reset() override {
    const auto d_model = options.d_model();
    self_attn = register_module(
        "self_attn", tl::MultiHeadedAttention(
                         tl::MultiHeadedAttentionOptions(d_model, options.num_heads()).dropout(options.dropout())));
    feed_forward = register_module(
        "feed_forward", tl::PositionwiseFeedForward(
                            tl::PositionwiseFeedForwardOptions(d_model, options.d_ff()).dropout(options.dropout())));
    sublayer = register_module("sublayer", torch::nn::ModuleList());
    for (int i = 0; i < 2; ++i) {
      sublayer->push_back(tl::SublayerConnection(tl::SublayerConnectionOptions(d_model).dropout(options.dropout())));
    }
    norm = register_module("norm", tl::LayerNorm(d_model));
    head = register_module("head", torch::nn::Linear(d_model, 1));
  }

  void pretty_print(std::ostream& stream) const override {
    stream << fmt::format("SequenceRegressor(d_model={}, num_heads={}, d_ff={})", options.d_model(),
                          options.num_heads(), options.d_ff());
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    TORCH_CHECK(x.dim() == 3 && x.size(2) == options.d_model(),
                fmt::format("SequenceRegressor: expected x of shape [B, T, {}], got {}", options.d_model(),
                            fmt::join(x.sizes(), ", ")));
    auto& attention_residual = *sublayer->ptr<tl::SublayerConnectionImpl>(0);
    auto& feed_forward_residual = *sublayer->ptr<tl::SublayerConnectionImpl>(1);
    auto y = attention_residual.forward(x, [&](const torch::Tensor& z) { return self_attn(z, z, z, mask); });
    y = feed_forward_residual.forward(y, [&](const torch::Tensor& z) { return feed_forward(z); });
    return head(norm(y)).squeeze(-1);  // [B, T, 1] -> [B, T]
  }

  SequenceRegressorOptions options;
  tl::MultiHeadedAttention self_attn{nullptr};
  tl::PositionwiseFeedForward feed_forward{nullptr};
  torch::nn::ModuleList sublayer{nullptr};
  tl::LayerNorm norm{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(SequenceRegressor);

namespace {

/// Toy task that needs attention: every position predicts the mean of feature 0
/// over the unmasked positions of its sequence. Returns false unless the final loss
/// is below half the first.
bool train_toy_task(int steps) {
  torch::manual_seed(0);
  const int64_t batch = 16, length = 8, d_model = 32;
  SequenceRegressor model(SequenceRegressorOptions(d_model, 4).d_ff(64));
  std::cout << model << "\n";

  auto x = torch::randn({batch, length, d_model});
  auto lengths = torch::randint(2, length + 1, {batch});                                 // [B]
  auto mask = (torch::arange(length).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(1);  // [B, 1, T]
  auto valid = mask.squeeze(1).to(torch::kFloat);                                        // [B, T]
  auto target = ((x.select(2, 0) * valid).sum(1) / valid.sum(1)).unsqueeze(1).expand({batch, length});

  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    auto error = (model(x, mask) - target) * valid;
    auto loss = error.pow(2).sum() / valid.sum();
    loss.backward();
    optimizer.step();
    last = loss.item<double>();
    if (step == 0) first = last;
    std::cout << fmt::format("step {:3d}  loss {:.5f}\n", step + 1, last);
  }
  const bool fell = last < 0.5 * first;
  std::cout << fmt::format("training: loss {:.5f} -> {:.5f} ({})\n", first, last, fell ? "fell" : "DID NOT FALL");
  return fell;
}

torch::IValue load_saved(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("cannot open '{}'", path));
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes);
}

/// Runs `method` of the TorchScript file on the saved inputs and compares with the saved output.
bool check_script(const std::string& script, const std::string& inputs_path, const std::string& expect_path,
                  const std::string& method, double atol, double rtol) {
  torch::jit::Module module = torch::jit::load(script);
  module.eval();
  auto inputs = load_saved(inputs_path);
  std::vector<torch::IValue> args;
  if (inputs.isTuple()) {
    for (const auto& value : inputs.toTupleRef().elements()) args.push_back(value);
  } else if (inputs.isList()) {
    for (const auto& value : inputs.toListRef()) args.push_back(value);
  } else {
    args.push_back(inputs);  // a single tensor
  }
  auto saved = load_saved(expect_path);
  if (!saved.isTensor()) {
    throw std::runtime_error(
        fmt::format("--expect {}: expected a saved tensor, got a {}", expect_path, saved.tagKind()));
  }
  auto expected = saved.toTensor();

  torch::NoGradGuard no_grad;
  auto output = module.get_method(method)(args).toTensor();
  if (output.sizes() != expected.sizes()) {
    std::cout << fmt::format("torchscript: {}.{} gave shape [{}], expected [{}]\n", script, method,
                             fmt::join(output.sizes(), ", "), fmt::join(expected.sizes(), ", "));
    return false;
  }
  const bool close = torch::allclose(output.to(expected.dtype()), expected, rtol, atol);
  const double max_diff =
      output.numel() ? (output.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>() : 0.0;
  std::cout << fmt::format("torchscript: {}.{}({} inputs) -> [{}], max |diff| {:.3g} ({})\n", script, method,
                           args.size(), fmt::join(output.sizes(), ", "), max_diff, close ? "matches" : "DIFFERS");
  return close;
}

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "error: " << message << "\n"
            << "usage: consumer [--steps N] [--script MODEL.pt --inputs IN.pt --expect OUT.pt [--method forward]"
               " [--atol 1e-5] [--rtol 1e-4]]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 40;
  std::string script, inputs, expect, method = "forward";
  double atol = 1e-5, rtol = 1e-4;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--steps")
        steps = std::stoi(value());
      else if (arg == "--script")
        script = value();
      else if (arg == "--inputs")
        inputs = value();
      else if (arg == "--expect")
        expect = value();
      else if (arg == "--method")
        method = value();
      else if (arg == "--atol")
        atol = std::stod(value());
      else if (arg == "--rtol")
        rtol = std::stod(value());
      else
        usage("unknown argument '" + arg + "'");
    } catch (const std::logic_error&) {  // stoi/stod
      usage("bad number for " + arg);
    }
  }
  if (!script.empty() && (inputs.empty() || expect.empty())) usage("--script needs --inputs and --expect");
  if (steps < 2) usage("--steps must be at least 2");

  std::cout << fmt::format("consumer: LibTorch {}, fmt {}\n", TORCH_VERSION, FMT_VERSION);
  try {
    bool ok = train_toy_task(steps);
    if (!script.empty()) ok = check_script(script, inputs, expect, method, atol, rtol) && ok;
    return ok ? 0 : 1;
  } catch (const c10::Error& error) {
    std::cerr << "error: " << error.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
