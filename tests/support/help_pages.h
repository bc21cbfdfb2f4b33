#pragma once
// Small LibreOffice help trees written by tests: pages in the help generator's
// HTML layout, for the corpus builders in tools/libreoffice_help.h and
// tools/help_langid.h.
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace torchzoo::testing {

/// (id, inner HTML) of the paragraphs of a page.
using HelpParagraphs = std::vector<std::pair<std::string, std::string>>;

inline void help_write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

/// A help page in the generator's layout: each (id, inner HTML) as a <p>, inside the usual chrome.
inline std::string help_page(const HelpParagraphs& paragraphs) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"xx\"><head><meta charset=\"utf-8\"><title>T</title>"
      "<script type=\"text/javascript\" src=\"help.js\"></script></head>\n<body><div id=\"DisplayArea\">\n";
  for (const auto& [id, inner] : paragraphs) {
    html += "  <p id=\"" + id + "\" class=\"paragraph\" dir=\"auto\">" + inner + "</p>\n";
  }
  return html + "</div><footer><div id=\"DEBUG\"><p id=\"bm_module\" dir=\"auto\"></p></div></footer></body></html>\n";
}

/// Moves a help tree to where fetch_libreoffice_help keeps an unpacked package in `cache`, so
/// that the prepare_* functions find it without apt-get or dpkg-deb.
inline void put_in_help_cache(const std::filesystem::path& tree, const std::filesystem::path& cache,
                              const std::string& package, const std::string& lang) {
  const auto help = cache / package / "usr/share/libreoffice/help";
  std::filesystem::create_directories(help);
  std::filesystem::rename(tree, help / lang);
}

}  // namespace torchzoo::testing
