#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/models/transformer_encoder_classifier.h"

using namespace torchzoo::models;
using namespace torchzoo::testing;

namespace {

// make_golden.py's EncoderClassifier(11, 3, N=2, d_model=16, d_ff=32, h=4, dropout=0.0, max_len=64).
TransformerEncoderClassifierOptions classifier_options() {
  return TransformerEncoderClassifierOptions(kVocab, 3)
      .num_layers(2)
      .d_model(kDModel)
      .d_ff(kDff)
      .num_heads(kHeads)
      .dropout(0.0)
      .attention_dropout(0.0)
      .max_len(64);
}

}  // namespace

TEST_CASE("TransformerEncoderClassifier matches the PyTorch reference", "[models][classifier][golden]") {
  const bool fused = GENERATE(true, false);
  const std::string name = GENERATE(as<std::string>{}, "encoder_classifier_cls", "encoder_classifier_mean_learned");
  INFO(name << ", " << (fused ? "fused" : "math") << " attention");
  const auto golden = load_golden(name);
  auto options = classifier_options().fused_attention(fused);
  if (name == "encoder_classifier_mean_learned") options.pooling(Pooling::kMean).learned_positions(true);
  TransformerEncoderClassifier model(options);
  model->eval();
  load_parameters(*model, golden);  // also REQUIREs the parameter names equal the reference's
  auto in = inputs(golden);
  check_parity(*model, model(in.at("tokens"), in.at("mask")), golden, in);
}

TEST_CASE("TransformerEncoderClassifier ignores padding", "[models][classifier]") {
  const auto pooling = GENERATE(Pooling::kCls, Pooling::kMean);
  INFO(to_string(pooling) << " pooling");
  torch::manual_seed(0);
  TransformerEncoderClassifier model(classifier_options().pooling(pooling));
  model->eval();
  auto tokens = torch::tensor({1, 5, 7, 3, 9}, torch::kLong).view({1, 5});
  auto padded = torch::cat({tokens, torch::zeros({1, 4}, torch::kLong)}, 1);  // [1, 9]
  auto alone = model(tokens, torchzoo::data::padding_mask(tokens, kPad));
  auto with_padding = model(padded, torchzoo::data::padding_mask(padded, kPad));
  CHECK(max_abs_diff(alone, with_padding) < 1e-5);
  // A different token does change the output (the check above is not vacuous).
  auto other = tokens.clone();
  other[0][2] = 4;
  CHECK(max_abs_diff(alone, model(other, torchzoo::data::padding_mask(other, kPad))) > 1e-4);
}

TEST_CASE("TransformerEncoderClassifier validates its options and inputs", "[models][classifier][errors]") {
  CHECK_THROWS_WITH(TransformerEncoderClassifier(TransformerEncoderClassifierOptions(0, 3)),
                    Catch::Contains("vocab must be positive, got 0"));
  CHECK_THROWS_WITH(TransformerEncoderClassifier(TransformerEncoderClassifierOptions(11, 0)),
                    Catch::Contains("num_classes must be positive, got 0"));
  CHECK_THROWS_WITH(pooling_from_string("max"), Catch::Contains("unknown pooling 'max'; expected cls or mean"));
  TransformerEncoderClassifier model(classifier_options());
  auto tokens = torch::ones({2, 4}, torch::kLong);
  CHECK_THROWS_WITH(model(tokens, torch::ones({2, 1, 5}, torch::kBool)),
                    Catch::Contains("expected a mask of shape [2, 1, 4], got [2, 1, 5]"));
  CHECK_THROWS_WITH(model(torch::ones({2, 70}, torch::kLong), torch::ones({2, 1, 70}, torch::kBool)),
                    Catch::Contains("exceed max_len 64"));
}
