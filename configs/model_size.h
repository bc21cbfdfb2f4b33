#pragma once
// Model sizes checked before anything is allocated: a config asking for a
// model that cannot fit this machine fails as a config error naming its size
// keys, instead of dying in an allocator or a storage-size overflow. Each
// family estimates its model's parameter and buffer count from its options
// (in floating point, so that absurd values cannot overflow).
#include <string>
#include <utility>
#include <vector>

#include "torchzoo/configs/config.h"

namespace torchzoo::configs {

/// The size keys of a model and their values, for the message.
using SizeKeys = std::vector<std::pair<std::string, double>>;

/// Parameters of `layers` Transformer layers of width `d_model`, feed-forward width `d_ff` and
/// `attentions` attention blocks per layer (1 for encoder layers, 2 for decoder layers), with
/// their biases and LayerNorms.
double transformer_layers_size(double layers, double d_model, double d_ff, double attentions);

/// Bytes of memory this process can still use: MemAvailable of /proc/meminfo, else the physical memory.
double available_memory_bytes();

/// Throws ConfigError at model.`keys.front()` when `values` fp32 numbers (the estimated parameters
/// and buffers) exceed available_memory_bytes(), naming every key of `keys` with its value.
void check_model_fits(const Section& model, double values, const SizeKeys& keys);

}  // namespace torchzoo::configs
