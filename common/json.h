#pragma once
// JSON text through nlohmann-json, for the files torchzoo writes by hand-ordered
// fields (metrics.jsonl lines, sacreBLEU's score format): the keys keep the
// order and spacing those formats use, the strings are escaped by the library.
#include <string>
#include <string_view>

namespace torchzoo::common {

/// `text` as a JSON string literal, as Python's json.dumps(text, ensure_ascii=False) writes it:
/// '"', '\\' and control characters escaped, other characters as they are. Bytes that are not
/// valid UTF-8 become U+FFFD.
///
/// Example:
///   json_string("a \"b\"\n")  // "\"a \\\"b\\\"\\n\""
std::string json_string(std::string_view text);

}  // namespace torchzoo::common
