#include "torchzoo/families/registry.h"

#include <mutex>

#include "torchzoo/families/image_classification.h"
#include "torchzoo/families/language_model.h"
#include "torchzoo/families/text_classification.h"
#include "torchzoo/families/translation.h"

namespace torchzoo::families {
namespace {

using FamilyRegistry = configs::Registry<std::shared_ptr<const Family>>;

struct Registries {
  FamilyRegistry families{"family"};
  FamilyRegistry models{"model"};
  FamilyRegistry tasks{"data"};

  void add(Family family) {
    auto shared = std::make_shared<const Family>(std::move(family));
    families.add(shared->name, shared);
    for (const auto& model : shared->models) models.add(model.name, shared, model.help);
    for (const auto& dataset : shared->datasets) tasks.add(dataset.name, shared, dataset.help);
  }
};

/// The one place every family is registered.
void fill(Registries& r) {
  r.add(translation_family());
  r.add(image_classification_family());
  r.add(text_classification_family());
  r.add(language_model_family());
}

const Registries& registries() {
  static Registries instance;
  static std::once_flag once;
  std::call_once(once, [] { fill(instance); });
  return instance;
}

}  // namespace

const FamilyRegistry& family_registry() { return registries().families; }
const FamilyRegistry& model_registry() { return registries().models; }
const FamilyRegistry& task_registry() { return registries().tasks; }

const Family& family_of(const Section& model) { return *configs::lookup(model_registry(), model); }

}  // namespace torchzoo::families
