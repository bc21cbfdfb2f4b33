#pragma once
// Where prepared corpora and their downloads live, outside the source tree, as
// torch.hub's get_dir()/set_dir() and Hugging Face's cache do. In order:
//   1. set_data_dir(), which the CLI's --data-dir calls;
//   2. the environment variable TORCHZOO_DATA_DIR;
//   3. $XDG_CACHE_HOME/torchzoo;
//   4. $HOME/.cache/torchzoo.
// Configs name files in it as ${data_dir}/... (configs/config.h).
//
// Example:
//   torchzoo::common::data_dir()                       // "/home/me/.cache/torchzoo"
//   torchzoo::common::data_path("libreoffice-langid")  // "/home/me/.cache/torchzoo/libreoffice-langid"
#include <string>

namespace torchzoo::common {

/// The data directory, resolved as above (not created). Throws c10::Error when none of the four
/// is set, saying how to set one.
std::string data_dir();

/// Where data_dir() came from, for messages: "--data-dir", "TORCHZOO_DATA_DIR",
/// "XDG_CACHE_HOME" or "HOME".
std::string data_dir_source();

/// Makes data_dir() return `dir` (the --data-dir flag); an empty `dir` restores the environment's.
void set_data_dir(const std::string& dir);

/// data_dir()/relative.
std::string data_path(const std::string& relative);

}  // namespace torchzoo::common
