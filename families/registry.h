#pragma once
// The registered model families (families/registry.cpp: one line each) and the
// two names a config picks them by: `model.name` (the model a family builds)
// and `data.name` (what it trains on). Filled once, then only read.
#include <memory>
#include <string>

#include "torchzoo/configs/registry.h"
#include "torchzoo/families/family.h"

namespace torchzoo::families {

/// Families by name ("translation", "image_classification", ...).
const configs::Registry<std::shared_ptr<const Family>>& family_registry();
/// model.name -> the family that builds it.
const configs::Registry<std::shared_ptr<const Family>>& model_registry();
/// data.name -> the family that trains on it.
const configs::Registry<std::shared_ptr<const Family>>& task_registry();

/// The family of a `model` section's name; an unknown name is a ConfigError at model.name
/// listing the registered models.
const Family& family_of(const Section& model);

}  // namespace torchzoo::families
