#include "torchzoo/train/export/torchscript_forms.h"

#include <cmath>
#include <functional>
#include <typeindex>
#include <typeinfo>
#include <unordered_map>

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/layers.h"
#include "torchzoo/models/models.h"

namespace torchzoo::train::script {
namespace {

/// A TorchScript float literal that reads back as the same double ("1.0", not "1", which is an int).
std::string float_literal(double value) {
  auto text = fmt::format("{:.17g}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

/// `getattr(self.<list>, "<index>")`: entry `index` of a ModuleList or Sequential child.
std::string entry(const std::string& list, size_t index) {
  return fmt::format("getattr(self.{}, \"{}\")", list, index);
}

/// TorchScript names the activation's aten op.
std::string activation_op(layers::Activation activation) {
  return activation == layers::Activation::kRelu ? "torch.relu" : "torch.gelu";
}

// ---- torch::nn modules --------------------------------------------------------------------------

ScriptForm linear_form(const torch::nn::LinearImpl& m) {
  // at::linear, as layers/detail/linear.h calls it.
  return {"nn.Linear", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.linear(x, self.weight, {})
)",
                                   m.bias.defined() ? "self.bias" : "None")};
}

ScriptForm embedding_form(const torch::nn::EmbeddingImpl& m) {
  const auto& o = m.options;
  TORCHZOO_CHECK(!o.max_norm() && !o.sparse(),
                 "TorchScript export: Embedding with max_norm or sparse is not supported");
  return {"nn.Embedding", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.embedding(self.weight, x, {})
)",
                                      o.padding_idx() ? *o.padding_idx() : -1)};
}

ScriptForm conv2d_form(const torch::nn::Conv2dImpl& m) {
  const auto& o = m.options;
  const auto* padding = std::get_if<torch::ExpandingArray<2>>(&o.padding());
  TORCHZOO_CHECK(padding != nullptr && std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()),
                 "TorchScript export: Conv2d supports explicit zero padding only");
  auto pair = [](const torch::ExpandingArray<2>& a) { return fmt::format("[{}, {}]", (*a)[0], (*a)[1]); };
  return {"nn.Conv2d", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.conv2d(x, self.weight, {}, {}, {}, {}, {})
)",
                                   m.bias.defined() ? "self.bias" : "None", pair(o.stride()), pair(*padding),
                                   pair(o.dilation()), o.groups())};
}

ScriptForm torch_layer_norm_form(const torch::nn::LayerNormImpl& m) {
  const auto& o = m.options;
  return {"nn.LayerNorm",
          fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.layer_norm(x, [{}], {}, {}, {})
)",
                      fmt::join(o.normalized_shape(), ", "), o.elementwise_affine() ? "self.weight" : "None",
                      o.elementwise_affine() ? "self.bias" : "None", float_literal(o.eps()))};
}

/// A Sequential's forward chains its entries (those the export keeps).
ScriptForm sequential_form(const torch::nn::SequentialImpl& m) {
  std::string body;
  for (size_t i = 0; i < m.size(); ++i) {
    if (!left_out(*m.ptr(i))) body += fmt::format("    x = getattr(self, \"{}\").forward(x)\n", i);
  }
  return {"nn.Sequential", "\ndef forward(self, x: Tensor) -> Tensor:\n" + body + "    return x\n"};
}

// ---- annotated Transformer layers ---------------------------------------------------------------

ScriptForm layer_norm_form(const layers::LayerNormImpl& m) {
  const auto& o = m.options;
  if (o.use_torch_layer_norm()) {
    return {"layers.LayerNorm", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.layer_norm(x, [{}], self.a_2, self.b_2, {})
)",
                                            o.features(), float_literal(o.eps()))};
  }
  return {"layers.LayerNorm", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    mean = x.mean(-1, keepdim=True)
    std = x.std(-1, unbiased=True, keepdim=True)
    return self.a_2 * (x - mean) / (std + {}) + self.b_2
)",
                                          float_literal(o.eps()))};
}

/// Scaled dot-product attention of q, k, v [B, h, T, d_k] under an optional [B, 1, T_q or 1, T_k]
/// mask, as layers/dot_product_attention.cpp computes it (fused or the paper's formula).
std::string attention_math(bool fused, int64_t d_k) {
  if (fused) return "    x = torch.scaled_dot_product_attention(q, k, v, head_mask, 0.0)  # [B, h, T_q, d_k]\n";
  return fmt::format(R"(    scores = torch.matmul(q, k.transpose(-2, -1)) / {}  # [B, h, T_q, T_k]
    if head_mask is not None:
        scores = scores.masked_fill(head_mask.logical_not(), -1000000000.0)
    x = torch.matmul(scores.softmax(-1), v)  # [B, h, T_q, d_k]
)",
                     float_literal(std::sqrt(static_cast<double>(d_k))));
}

ScriptForm multi_headed_attention_form(const layers::MultiHeadedAttentionImpl& m) {
  const auto& o = m.options;
  const auto d_k = o.d_model() / o.num_heads();
  return {"layers.MultiHeadedAttention",
          fmt::format(R"(
def split_heads(self, x: Tensor) -> Tensor:
    return x.view(x.size(0), x.size(1), {h}, {d_k}).transpose(1, 2)  # [B, h, T, d_k]

def project_key_value(self, key: Tensor, value: Tensor) -> Tuple[Tensor, Tensor]:
    k = self.split_heads({l1}.forward(key))  # [B, h, T_k, d_k]
    v = self.split_heads({l2}.forward(value))  # [B, h, T_k, d_k]
    return k, v

def attention(self, q: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor]) -> Tensor:
    head_mask: Optional[Tensor] = None
    if mask is not None:
        head_mask = mask.unsqueeze(1)  # [B, 1, T_q or 1, T_k]
{math}    x = x.transpose(1, 2).contiguous().view(q.size(0), -1, {d_model})  # [B, T_q, d_model]
    return {l3}.forward(x)

def attend(self, query: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor]) -> Tensor:
    return self.attention(self.split_heads({l0}.forward(query)), k, v, mask)

def attend_step(self, x: Tensor, key: Tensor, value: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    # Self-attention of one new position x [B, 1, d_model]: its key and value join the cached ones
    # [B, h, T, d_k], and it attends to all of them (no mask: the cache is the causal prefix).
    k, v = self.project_key_value(x, x)
    key = torch.cat([key, k], 2)  # [B, h, T + 1, d_k]
    value = torch.cat([value, v], 2)
    return self.attend(x, key, value, None), key, value

def forward(self, query: Tensor, key: Tensor, value: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    q = self.split_heads({l0}.forward(query))  # [B, h, T_q, d_k]
    k, v = self.project_key_value(key, value)
    return self.attention(q, k, v, mask)
)",
                      fmt::arg("h", o.num_heads()), fmt::arg("d_k", d_k), fmt::arg("d_model", o.d_model()),
                      fmt::arg("math", attention_math(o.fused(), d_k)), fmt::arg("l0", entry("linears", 0)),
                      fmt::arg("l1", entry("linears", 1)), fmt::arg("l2", entry("linears", 2)),
                      fmt::arg("l3", entry("linears", 3)))};
}

ScriptForm feed_forward_form(const layers::PositionwiseFeedForwardImpl& m) {
  return {"layers.PositionwiseFeedForward", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return self.w_2.forward({}(self.w_1.forward(x)))  # [B, T, d_ff] -> [B, T, d_model]
)",
                                                        activation_op(m.options.activation()))};
}

/// The residual wiring as two methods, since TorchScript cannot pass the sublayer in:
/// x + sublayer(norm(x)) (pre-norm) or norm(x + sublayer(x)) is residual(x, sublayer(normed(x))).
ScriptForm sublayer_connection_form(const layers::SublayerConnectionImpl& m) {
  if (m.options.norm_first()) {
    return {"layers.SublayerConnection", R"(
def normed(self, x: Tensor) -> Tensor:
    return self.norm.forward(x)

def residual(self, x: Tensor, y: Tensor) -> Tensor:
    return x + y
)"};
  }
  return {"layers.SublayerConnection", R"(
def normed(self, x: Tensor) -> Tensor:
    return x

def residual(self, x: Tensor, y: Tensor) -> Tensor:
    return self.norm.forward(x + y)
)"};
}

ScriptForm encoder_layer_form(const layers::EncoderLayerImpl&) {
  return {"layers.EncoderLayer",
          fmt::format(R"(
def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
    s0 = {s0}
    z = s0.normed(x)
    x = s0.residual(x, self.self_attn.forward(z, z, z, mask))
    s1 = {s1}
    return s1.residual(x, self.feed_forward.forward(s1.normed(x)))

def step(self, x: Tensor, key: Tensor, value: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    # x [B, 1, d_model] attends to the cached keys and values [B, h, T, d_k] and itself.
    s0 = {s0}
    y, key, value = self.self_attn.attend_step(s0.normed(x), key, value)
    x = s0.residual(x, y)
    s1 = {s1}
    return s1.residual(x, self.feed_forward.forward(s1.normed(x))), key, value
)",
                      fmt::arg("s0", entry("sublayer", 0)), fmt::arg("s1", entry("sublayer", 1)))};
}

/// `empty_cache(x)`: one zero-length key and value [B, h, 0, d_k] per layer, for step().
std::string empty_cache_method(size_t num_layers, const layers::MultiHeadedAttentionImpl& attention) {
  return fmt::format(R"(
def empty_cache(self, x: Tensor) -> List[Tensor]:
    cache: List[Tensor] = []
    for _ in range({}):
        cache.append(torch.zeros([x.size(0), {}, 0, {}], dtype=x.dtype, device=x.device))
    return cache
)",
                     2 * num_layers, attention.options.num_heads(),
                     attention.options.d_model() / attention.options.num_heads());
}

ScriptForm encoder_form(const layers::EncoderImpl& m) {
  std::string forward, step;
  for (size_t i = 0; i < m.layers->size(); ++i) {
    forward += fmt::format("    x = {}.forward(x, mask)\n", entry("layers", i));
    step += fmt::format(
        "    x, k, v = {}.step(x, cache[{}], cache[{}])\n    new_cache.append(k)\n"
        "    new_cache.append(v)\n",
        entry("layers", i), 2 * i, 2 * i + 1);
  }
  const std::string out = m.norm ? "self.norm.forward(x)" : "x";
  return {"layers.Encoder",
          fmt::format(R"(
def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
{forward}    return {out}

def step(self, x: Tensor, cache: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:
    # x [B, 1, d_model]; cache: keys and values [B, h, T, d_k] of layer 0, then layer 1, ...
    new_cache: List[Tensor] = []
{step}    return {out}, new_cache
)",
                      fmt::arg("forward", forward), fmt::arg("step", step), fmt::arg("out", out)) +
              empty_cache_method(m.layers->size(), *m.layers->ptr<layers::EncoderLayerImpl>(0)->self_attn)};
}

ScriptForm decoder_layer_form(const layers::DecoderLayerImpl&) {
  return {"layers.DecoderLayer", fmt::format(R"(
def forward(self, x: Tensor, memory: Tensor, src_mask: Optional[Tensor], tgt_mask: Optional[Tensor]) -> Tensor:
    s0 = {s0}
    z = s0.normed(x)
    x = s0.residual(x, self.self_attn.forward(z, z, z, tgt_mask))
    s1 = {s1}
    x = s1.residual(x, self.src_attn.forward(s1.normed(x), memory, memory, src_mask))
    s2 = {s2}
    return s2.residual(x, self.feed_forward.forward(s2.normed(x)))

def step(self, x: Tensor, key: Tensor, value: Tensor, memory_key: Tensor, memory_value: Tensor,
         src_mask: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
    # x [B, 1, d_model] attends to the cached keys and values [B, h, T, d_k] and itself, then to the memory.
    s0 = {s0}
    y, key, value = self.self_attn.attend_step(s0.normed(x), key, value)
    x = s0.residual(x, y)
    s1 = {s1}
    x = s1.residual(x, self.src_attn.attend(s1.normed(x), memory_key, memory_value, src_mask))
    s2 = {s2}
    return s2.residual(x, self.feed_forward.forward(s2.normed(x))), key, value
)",
                                             fmt::arg("s0", entry("sublayer", 0)), fmt::arg("s1", entry("sublayer", 1)),
                                             fmt::arg("s2", entry("sublayer", 2)))};
}

ScriptForm decoder_form(const layers::DecoderImpl& m) {
  std::string forward, init, step;
  for (size_t i = 0; i < m.layers->size(); ++i) {
    const auto layer = entry("layers", i);
    forward += fmt::format("    x = {}.forward(x, memory, src_mask, tgt_mask)\n", layer);
    init += fmt::format(
        "    k, v = {}.src_attn.project_key_value(memory, memory)\n    state.append(k)\n"
        "    state.append(v)\n",
        layer);
    step += fmt::format(
        "    x, k, v = {}.step(x, cache[{}], cache[{}], memory_kv[{}], memory_kv[{}], src_mask)\n"
        "    new_cache.append(k)\n    new_cache.append(v)\n",
        layer, 2 * i, 2 * i + 1, 2 * i, 2 * i + 1);
  }
  const std::string out = m.norm ? "self.norm.forward(x)" : "x";
  return {
      "layers.Decoder",
      fmt::format(R"(
def forward(self, x: Tensor, memory: Tensor, src_mask: Optional[Tensor], tgt_mask: Optional[Tensor]) -> Tensor:
{forward}    return {out}

def init_state(self, memory: Tensor) -> List[Tensor]:
    # Every layer's src_attn keys and values of the memory [B, h, T_src, d_k], computed once.
    state: List[Tensor] = []
{init}    return state

def step(self, x: Tensor, cache: List[Tensor], memory_kv: List[Tensor],
         src_mask: Optional[Tensor]) -> Tuple[Tensor, List[Tensor]]:
    # x [B, 1, d_model] at the position after the cached ones -> [B, 1, d_model] and the longer cache.
    new_cache: List[Tensor] = []
{step}    return {out}, new_cache
)",
                  fmt::arg("forward", forward), fmt::arg("init", init), fmt::arg("step", step), fmt::arg("out", out)) +
          empty_cache_method(m.layers->size(), *m.layers->ptr<layers::DecoderLayerImpl>(0)->self_attn)};
}

ScriptForm embeddings_form(const layers::EmbeddingsImpl& m) {
  return {"layers.Embeddings", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    return self.lut.forward(x) * {}  # [B, T, d_model]
)",
                                           float_literal(std::sqrt(static_cast<double>(m.options.d_model()))))};
}

/// forward_at(x, offset): positions offset .. offset + T - 1, for incremental decoding.
ScriptForm positions_form(const std::string& class_name, const std::string& table, int64_t max_len) {
  return {class_name,
          fmt::format(R"(
def forward_at(self, x: Tensor, offset: int) -> Tensor:
    assert offset + x.size(1) <= {max_len}, ("{name}: positions up to " + str(offset + x.size(1)) + " exceed max_len {max_len}")
    return x + {table}  # [B, T, d_model]

def forward(self, x: Tensor) -> Tensor:
    return self.forward_at(x, 0)
)",
                      fmt::arg("name", class_name), fmt::arg("table", table), fmt::arg("max_len", max_len))};
}

ScriptForm generator_form(const layers::GeneratorImpl&) {
  return {"layers.Generator", R"(
def forward(self, x: Tensor) -> Tensor:
    return torch.log_softmax(self.proj.forward(x), -1)  # [..., vocab]
)"};
}

// ---- Vision Transformer layers ------------------------------------------------------------------

ScriptForm patch_embed_form(const layers::PatchEmbedImpl&) {
  return {"layers.PatchEmbed", R"(
def forward(self, x: Tensor) -> Tensor:
    return self.proj.forward(x).flatten(2).transpose(1, 2)  # [B, D, H/p, W/p] -> [B, N, D]
)"};
}

ScriptForm vit_attention_form(const layers::AttentionImpl& m) {
  const auto& o = m.options;
  const auto d_k = o.dim() / o.num_heads();
  return {"layers.Attention", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    batch = x.size(0)
    tokens = x.size(1)
    qkv = self.qkv.forward(x).view(batch, tokens, 3, {h}, {d_k}).permute(2, 0, 3, 1, 4)  # [3, B, h, N, d_k]
    q = qkv[0]
    k = qkv[1]
    v = qkv[2]
    head_mask: Optional[Tensor] = None
{math}    x = x.transpose(1, 2).reshape(batch, tokens, {dim})  # [B, N, dim]
    return self.proj.forward(x)
)",
                                          fmt::arg("h", o.num_heads()), fmt::arg("d_k", d_k), fmt::arg("dim", o.dim()),
                                          fmt::arg("math", attention_math(o.fused(), d_k)))};
}

ScriptForm mlp_form(const layers::MlpImpl&) {
  return {"layers.Mlp", R"(
def forward(self, x: Tensor) -> Tensor:
    return self.fc2.forward(torch.gelu(self.fc1.forward(x)))
)"};
}

ScriptForm layer_scale_form(const layers::LayerScaleImpl&) {
  return {"layers.LayerScale", R"(
def forward(self, x: Tensor) -> Tensor:
    return x * self.gamma
)"};
}

ScriptForm vit_block_form(const layers::VitBlockImpl& m) {
  return {"layers.VitBlock", fmt::format(R"(
def forward(self, x: Tensor) -> Tensor:
    attn_branch = self.attn.forward(self.norm1.forward(x))  # [B, N, dim]
    h = x + {}
    mlp_branch = self.mlp.forward(self.norm2.forward(h))  # [B, N, dim]
    return h + {}
)",
                                         m.ls1 ? "self.ls1.forward(attn_branch)" : "attn_branch",
                                         m.ls2 ? "self.ls2.forward(mlp_branch)" : "mlp_branch")};
}

// ---- models -------------------------------------------------------------------------------------

ScriptForm encoder_decoder_form(const models::EncoderDecoderImpl& m, const TorchScriptExportOptions& options) {
  return {"models.EncoderDecoder",
          fmt::format(R"(
def encode(self, src: Tensor, src_mask: Optional[Tensor]) -> Tensor:
    assert src.dim() == 2, ("EncoderDecoder: expected src of shape [B, T_src], got " + str(src.dim()) + " dimensions")
    return self.encoder.forward(self.src_embed.forward(src), src_mask)  # [B, T_src, d_model]

def decode(self, memory: Tensor, src_mask: Optional[Tensor], tgt: Tensor, tgt_mask: Optional[Tensor]) -> Tensor:
    assert tgt.dim() == 2, ("EncoderDecoder: expected tgt of shape [B, T_tgt], got " + str(tgt.dim()) + " dimensions")
    return self.decoder.forward(self.tgt_embed.forward(tgt), memory, src_mask, tgt_mask)  # [B, T_tgt, d_model]

def forward(self, src: Tensor, tgt: Tensor, src_mask: Optional[Tensor], tgt_mask: Optional[Tensor]) -> Tensor:
    return self.decode(self.encode(src, src_mask), src_mask, tgt, tgt_mask)

def greedy_decode(self, src: Tensor, src_mask: Tensor, max_len: int, start_symbol: int = {start},
                  end_symbol: int = {end}, pad: int = {pad}) -> Tensor:
    # The annotated Transformer's greedy_decode with a key/value cache: tokens [B, <= max_len] starting
    # with start_symbol; a row that produced end_symbol is padded, and decoding stops when all have.
    assert max_len >= 1, ("greedy_decode: max_len must be >= 1, got " + str(max_len))
    memory = self.encode(src, src_mask)  # [B, T_src, d_model]
    memory_kv = self.decoder.init_state(memory)
    cache = self.decoder.empty_cache(memory)
    ys = torch.full([src.size(0), 1], start_symbol, dtype=src.dtype, device=src.device)  # [B, 1]
    finished = torch.zeros([src.size(0)], dtype=src.dtype, device=src.device).ne(0)  # [B], all False
    for i in range(1, max_len):
        x = {embed}.forward(ys.narrow(1, i - 1, 1))  # [B, 1, d_model]
        x = {position}.forward_at(x, i - 1)
        out, cache = self.decoder.step(x, cache, memory_kv, src_mask)
        log_probs = self.generator.forward(out.squeeze(1))  # [B, vocab]
        next_tokens = log_probs.max(-1)[1].masked_fill(finished, pad)  # [B]
        ys = torch.cat([ys, next_tokens.unsqueeze(1)], 1)  # [B, i + 1]
        if end_symbol >= 0:
            finished = finished | next_tokens.eq(end_symbol)
            if bool(finished.all()):
                break
    return ys
)",
                      fmt::arg("start", options.start_symbol()), fmt::arg("end", options.end_symbol()),
                      fmt::arg("pad", options.pad()), fmt::arg("embed", entry("tgt_embed", 0)),
                      fmt::arg("position", entry("tgt_embed", 1)))};
}

/// choose_next(scores [B, V], ...) -> tokens [B], as train/decode/sampling.cpp chooses them (with torch's default
/// generator: seed it with torch.manual_seed / torch::manual_seed).
const char* const kChooseNext = R"(
def choose_next(self, scores: Tensor, temperature: float, top_k: int, top_p: float) -> Tensor:
    if temperature == 0.0:
        return scores.argmax(1)  # [B]
    assert temperature >= 0.0 and top_k >= 0 and top_p > 0.0 and top_p <= 1.0, ("generate: expected temperature >= 0, top_k >= 0 and top_p in (0, 1]")
    x = scores.float() / temperature  # [B, V]
    if top_k > 0 and top_k < x.size(1):
        kth = x.topk(top_k, 1)[0].select(1, top_k - 1).unsqueeze(1)  # [B, 1]
        x = x.masked_fill(x < kth, float("-inf"))
    if top_p < 1.0:
        sorted_scores, order = x.sort(1, True)  # [B, V]
        probs = sorted_scores.softmax(1)
        # A token is left out when the more probable ones already reach top_p (the first never is).
        outside = (probs.cumsum(1) - probs) >= top_p  # [B, V], in sorted order
        x = x.masked_fill(torch.zeros_like(outside).scatter(1, order, outside), float("-inf"))
    return x.softmax(1).multinomial(1).squeeze(1)  # [B]
)";

ScriptForm decoder_only_lm_form(const models::DecoderOnlyLMImpl& m, const TorchScriptExportOptions& options) {
  return {"models.DecoderOnlyLM",
          fmt::format(R"(
def embed_at(self, tokens: Tensor, offset: int) -> Tensor:
    assert tokens.dim() == 2, ("DecoderOnlyLM: expected tokens of shape [B, T], got " + str(tokens.dim()) + " dimensions")
    return {position}.forward_at({embed}.forward(tokens), offset)  # [B, T, d_model]

def forward(self, tokens: Tensor, mask: Optional[Tensor]) -> Tensor:
    return self.decoder.forward(self.embed_at(tokens, 0), mask)  # [B, T, d_model]

def generate(self, tokens: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int = 0,
             top_p: float = 1.0, end_symbol: int = {end}, pad: int = {pad}) -> Tensor:
    # The prompts tokens [B, T] (no padding) and their continuations: [B, T + <= max_new_tokens]. A row
    # that produced end_symbol is padded; generation stops when all have. temperature 0 is greedy.
    assert tokens.dim() == 2 and tokens.size(1) >= 1, ("generate: expected prompts of shape [B, T] with T >= 1")
    assert tokens.size(1) + max_new_tokens <= {max_len}, ("generate: " + str(tokens.size(1)) + " prompt tokens + max_new_tokens " +
        str(max_new_tokens) + " exceed max_len {max_len}")
    cache = self.decoder.empty_cache(self.embed_at(tokens.narrow(1, 0, 1), 0))
    # The prompt goes through the cache one position at a time, as generation will.
    out = self.embed_at(tokens.narrow(1, 0, 1), 0)
    for t in range(tokens.size(1)):
        out, cache = self.decoder.step(self.embed_at(tokens.narrow(1, t, 1), t), cache)  # [B, 1, d_model]
    finished = torch.zeros([tokens.size(0)], dtype=tokens.dtype, device=tokens.device).ne(0)  # [B], all False
    for i in range(max_new_tokens):
        log_probs = self.generator.forward(out).select(1, 0).float()  # [B, vocab]
        next_tokens = self.choose_next(log_probs, temperature, top_k, top_p).masked_fill(finished, pad)  # [B]
        tokens = torch.cat([tokens, next_tokens.unsqueeze(1)], 1)
        if end_symbol >= 0:
            finished = finished | next_tokens.eq(end_symbol)
            if bool(finished.all()):
                break
        if i + 1 < max_new_tokens:
            out, cache = self.decoder.step(self.embed_at(next_tokens.unsqueeze(1), tokens.size(1) - 1), cache)
    return tokens
)",
                      fmt::arg("end", options.end_symbol()), fmt::arg("pad", options.pad()),
                      fmt::arg("max_len", m.options.max_len()), fmt::arg("embed", entry("embed", 0)),
                      fmt::arg("position", entry("embed", 1))) +
              kChooseNext};
}

ScriptForm encoder_classifier_form(const models::TransformerEncoderClassifierImpl& m) {
  const std::string pool = m.options.pooling() == models::Pooling::kCls ? R"(
def pool(self, hidden: Tensor, mask: Tensor) -> Tensor:
    return hidden.select(1, 0)  # [B, d_model]: the first position
)"
                                                                        : R"(
def pool(self, hidden: Tensor, mask: Tensor) -> Tensor:
    weights = mask.squeeze(1).unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
    counts = weights.sum(1).clamp_min(1.0)  # [B, 1]
    return (hidden * weights).sum(1) / counts  # [B, d_model]: the mean over non-padding positions
)";
  return {"models.TransformerEncoderClassifier", pool + R"(
def encode(self, tokens: Tensor, mask: Tensor) -> Tensor:
    assert tokens.dim() == 2, ("TransformerEncoderClassifier: expected tokens of shape [B, T], got " + str(tokens.dim()) +
        " dimensions")
    return self.encoder.forward(self.embed.forward(tokens), mask)  # [B, T, d_model]

def forward(self, tokens: Tensor, mask: Tensor) -> Tensor:
    return self.head.forward(self.pool(self.encode(tokens, mask), mask))  # [B, num_classes]
)"};
}

// ---- BERT (models/bert.h) ----------------------------------------------------------------------

ScriptForm bert_embeddings_form() {
  return {"models.BertEmbeddings", R"(
def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
    positions = torch.arange(input_ids.size(1), dtype=input_ids.dtype, device=input_ids.device)  # [T]
    x = self.word_embeddings.forward(input_ids) + self.token_type_embeddings.forward(token_type_ids)
    return self.LayerNorm.forward(x + self.position_embeddings.forward(positions))  # [B, T, H]
)"};
}

ScriptForm bert_pooler_form() {
  return {"models.BertPooler", R"(
def forward(self, hidden_states: Tensor) -> Tensor:
    return torch.tanh(self.dense.forward(hidden_states.select(1, 0)))  # [B, H]: the [CLS] position
)"};
}

ScriptForm bert_model_form() {
  return {"models.BertModel", R"(
def forward(self, input_ids: Tensor, token_type_ids: Tensor, attention_mask: Tensor) -> Tuple[Tensor, Tensor]:
    # ids, types and mask [B, T] (mask: 1 for a token, 0 for padding) -> last hidden states [B, T, H], pooler [B, H]
    assert input_ids.dim() == 2, ("BertModel: expected input_ids of shape [B, T], got " + str(input_ids.dim()) +
        " dimensions")
    hidden = self.encoder.forward(self.embeddings.forward(input_ids, token_type_ids),
                                  attention_mask.ne(0).unsqueeze(1))
    return hidden, self.pooler.forward(hidden)
)"};
}

ScriptForm bert_classifier_form() {
  return {"models.BertClassifier", R"(
def forward(self, tokens: Tensor, mask: Tensor) -> Tensor:
    # tokens [B, T], mask bool [B, 1, T] (true = a token) -> logits [B, num_classes], as TransformerEncoderClassifier
    attention_mask = mask.squeeze(1)
    hidden, pooled = self.bert.forward(tokens, torch.zeros_like(tokens), attention_mask)
    return self.classifier.forward(pooled)
)"};
}

ScriptForm vision_transformer_form(const models::VisionTransformerImpl& m) {
  std::string blocks;
  for (size_t i = 0; i < m.blocks->size(); ++i) blocks += fmt::format("    x = {}.forward(x)\n", entry("blocks", i));
  const bool token = m.options.global_pool() == models::GlobalPool::kToken;
  return {
      "models.VisionTransformer",
      fmt::format(R"(
def forward_features(self, images: Tensor) -> Tensor:
    assert images.dim() == 4, ("VisionTransformer: expected images of shape [B, C, H, W], got " + str(images.dim()) +
        " dimensions")
    x = self.patch_embed.forward(images)  # [B, N, D]
    x = torch.cat([self.cls_token.expand([x.size(0), -1, -1]), x], 1)  # [B, 1 + N, D]
    x = x + self.pos_embed
{blocks}    return {features}  # [B, 1 + N, D]

def forward_head(self, tokens: Tensor) -> Tensor:
    pooled = {pooled}  # [B, D]
    return self.head.forward(pooled)  # [B, num_classes]

def forward(self, images: Tensor) -> Tensor:
    return self.forward_head(self.forward_features(images))
)",
                  fmt::arg("blocks", blocks), fmt::arg("features", token ? "self.norm.forward(x)" : "x"),
                  fmt::arg("pooled", token ? "tokens.select(1, 0)" : "self.fc_norm.forward(tokens[:, 1:].mean(1))"))};
}

/// The form of a module of one exact type, reached through the table below.
using FormOf = std::function<ScriptForm(const torch::nn::Module&, const TorchScriptExportOptions&)>;

/// An entry of the table: `form` called with the module as an `Impl` (the table is looked up by
/// the module's exact type, so the downcast is the type it has).
template <class Impl, class Form>
std::pair<const std::type_index, FormOf> form_of(Form form) {
  return {std::type_index(typeid(Impl)), [form](const torch::nn::Module& m, const TorchScriptExportOptions& o) {
            return form(static_cast<const Impl&>(m), o);
          }};
}

const std::unordered_map<std::type_index, FormOf>& form_table() {
  namespace nn = torch::nn;
  using Options = TorchScriptExportOptions;
  static const std::unordered_map<std::type_index, FormOf> table = {
      form_of<nn::LinearImpl>([](const auto& m, const Options&) { return linear_form(m); }),
      form_of<nn::EmbeddingImpl>([](const auto& m, const Options&) { return embedding_form(m); }),
      form_of<nn::Conv2dImpl>([](const auto& m, const Options&) { return conv2d_form(m); }),
      form_of<nn::LayerNormImpl>([](const auto& m, const Options&) { return torch_layer_norm_form(m); }),
      form_of<nn::SequentialImpl>([](const auto& m, const Options&) { return sequential_form(m); }),
      form_of<nn::ModuleListImpl>([](const auto&, const Options&) { return ScriptForm{"nn.ModuleList", ""}; }),
      form_of<layers::LayerNormImpl>([](const auto& m, const Options&) { return layer_norm_form(m); }),
      form_of<layers::MultiHeadedAttentionImpl>(
          [](const auto& m, const Options&) { return multi_headed_attention_form(m); }),
      form_of<layers::PositionwiseFeedForwardImpl>([](const auto& m, const Options&) { return feed_forward_form(m); }),
      form_of<layers::SublayerConnectionImpl>(
          [](const auto& m, const Options&) { return sublayer_connection_form(m); }),
      form_of<layers::EncoderLayerImpl>([](const auto& m, const Options&) { return encoder_layer_form(m); }),
      form_of<layers::EncoderImpl>([](const auto& m, const Options&) { return encoder_form(m); }),
      form_of<layers::DecoderLayerImpl>([](const auto& m, const Options&) { return decoder_layer_form(m); }),
      form_of<layers::DecoderImpl>([](const auto& m, const Options&) { return decoder_form(m); }),
      form_of<layers::EmbeddingsImpl>([](const auto& m, const Options&) { return embeddings_form(m); }),
      form_of<layers::PositionalEncodingImpl>([](const auto& m, const Options&) {
        return positions_form("layers.PositionalEncoding", "self.pe.narrow(1, offset, x.size(1))",
                              m.options.max_len());
      }),
      form_of<layers::LearnedPositionalEmbeddingImpl>([](const auto& m, const Options&) {
        return positions_form("layers.LearnedPositionalEmbedding", "self.weight.narrow(0, offset, x.size(1))",
                              m.options.max_len());
      }),
      form_of<layers::GeneratorImpl>([](const auto& m, const Options&) { return generator_form(m); }),
      form_of<layers::PatchEmbedImpl>([](const auto& m, const Options&) { return patch_embed_form(m); }),
      form_of<layers::AttentionImpl>([](const auto& m, const Options&) { return vit_attention_form(m); }),
      form_of<layers::MlpImpl>([](const auto& m, const Options&) { return mlp_form(m); }),
      form_of<layers::LayerScaleImpl>([](const auto& m, const Options&) { return layer_scale_form(m); }),
      form_of<layers::VitBlockImpl>([](const auto& m, const Options&) { return vit_block_form(m); }),
      form_of<models::EncoderDecoderImpl>([](const auto& m, const Options& o) { return encoder_decoder_form(m, o); }),
      form_of<models::DecoderOnlyLMImpl>([](const auto& m, const Options& o) { return decoder_only_lm_form(m, o); }),
      form_of<models::TransformerEncoderClassifierImpl>(
          [](const auto& m, const Options&) { return encoder_classifier_form(m); }),
      form_of<models::VisionTransformerImpl>([](const auto& m, const Options&) { return vision_transformer_form(m); }),
      form_of<models::BertEmbeddingsImpl>([](const auto&, const Options&) { return bert_embeddings_form(); }),
      form_of<models::BertPoolerImpl>([](const auto&, const Options&) { return bert_pooler_form(); }),
      form_of<models::BertModelImpl>([](const auto&, const Options&) { return bert_model_form(); }),
      form_of<models::BertClassifierImpl>([](const auto&, const Options&) { return bert_classifier_form(); }),
  };
  return table;
}

}  // namespace

bool left_out(const torch::nn::Module& module) {
  const std::type_index type(typeid(module));
  return type == std::type_index(typeid(torch::nn::DropoutImpl)) ||
         type == std::type_index(typeid(layers::DropoutImpl)) ||
         type == std::type_index(typeid(layers::DropPathImpl));
}

std::optional<ScriptForm> script_form(const torch::nn::Module& module, const TorchScriptExportOptions& options) {
  const auto& table = form_table();
  const auto it = table.find(std::type_index(typeid(module)));
  if (it == table.end()) return std::nullopt;
  return it->second(module, options);
}

}  // namespace torchzoo::train::script
