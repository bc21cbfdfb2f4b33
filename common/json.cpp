#include "torchzoo/common/json.h"

#include <nlohmann/json.hpp>

namespace torchzoo::common {

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace torchzoo::common
