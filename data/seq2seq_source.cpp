#include "torchzoo/data/seq2seq_source.h"

namespace torchzoo::data {

std::string to_string(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kValid:
      return "valid";
    case Split::kTest:
      return "test";
  }
  return "unknown";
}

}  // namespace torchzoo::data
