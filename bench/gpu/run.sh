#!/usr/bin/env bash
# The one script for an accelerator machine (see ../shared/gpu/README.md): on a bare
# machine with a CUDA PyTorch wheel, CMake, ninja and nvcc but no apt or network,
# configure and build what the CUDA tests and benchmarks need, run the [cuda]
# tests and the base-Transformer benchmark, and leave every log and result in $OUT.
#
#   OUT=/some/dir bash bench/gpu/run.sh        (from anywhere; default OUT ./gpu-out)
#
# In a device `run`: carry [".gpu-deps"] (bash ../shared/gpu/fetch-debs.sh fills it here)
# and call `bash bench/gpu/run.sh`; the device tool sets $OUT.
#
# Writes into $OUT: summary.txt (each step's exit code and seconds), env.txt,
# nvidia-smi.txt, configure.log, build.log, ldd.txt, ctest_cuda.log,
# transformer_base.log and transformer_base.json, vit_bench.* and copy_task_bench.*.
# A failed configure or build stops the script (exit 1); failing tests or
# benchmarks are recorded in summary.txt and the script goes on. The whole run
# should stay under ~9 minutes on 16 cores: only the targets below are built, and
# the test and benchmark steps run under time limits.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."  # the project root
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=build-gpu
TARGETS=(test_cuda torchzoo_cli transformer_base_bench vit_bench copy_task_bench)
started=$(date +%s)
summary="$OUT/summary.txt"
: > "$summary"

note() { echo "[$(($(date +%s) - started))s] $*" | tee -a "$summary"; }

# step NAME LOG CMD...: runs CMD with its output in $OUT/LOG (and on stdout); records the exit code and
# duration in summary.txt; returns the exit code, so that `step ... || fail` stops and `step ... || true` goes on.
step() {
  local name=$1 log=$2 t0 rc
  shift 2
  t0=$(date +%s)
  set +e
  "$@" 2>&1 | tee "$OUT/$log"
  rc=${PIPESTATUS[0]}
  set -e
  note "$name: exit $rc in $(($(date +%s) - t0))s (log $log)"
  return "$rc"
}
fail() {
  note "FATAL: $1"
  exit 1
}

# The build dependencies besides LibTorch, carried as .debs (unpacked into /opt/deps; sets CPATH and
# LD_LIBRARY_PATH). Sourced, not run, so that its exports stay.
if [ -f .gpu-deps/unpack-debs.sh ]; then
  source .gpu-deps/unpack-debs.sh > "$OUT/unpack-debs.log" 2>&1 || fail "unpacking .gpu-deps (see unpack-debs.log)"
  note "unpacked .gpu-deps"
else
  note "no .gpu-deps/unpack-debs.sh: building against the libraries installed on this machine"
fi
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"
# No CUDA code of ours is compiled; naming the architecture spares Torch's CMake its detection of it.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}

{
  echo "date: $(date -u)"
  echo "host: $(uname -a)"
  echo "cores: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  python3 -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda)' || true
  cmake --version | head -1 || true
  ninja --version || true
  nvcc --version | tail -2 || true
  ldd --version | head -1 || true
} > "$OUT/env.txt" 2>&1
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || note "nvidia-smi failed (see nvidia-smi.txt)"

# A CMake list (';'): the environment variable CMAKE_PREFIX_PATH is split on ':' on Linux, so the list that
# unpack-debs.sh exports with ';' is passed here as the cache variable instead.
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
prefix_path=$torch_prefix
[ -d /opt/deps/usr ] && prefix_path="$prefix_path;/opt/deps/usr"
rm -rf "$BUILD"
step configure configure.log \
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix_path" \
  -DTORCHZOO_BUILD_TESTS=ON -DTORCHZOO_TEST_KERNEL_PATHS=OFF -DTORCHZOO_UNITY_BUILD=ON ||
  fail "configure (see configure.log)"

# Only the targets that exist (test_cuda arrives with the [cuda] tests).
all_targets=$(ninja -C "$BUILD" -t targets all 2>/dev/null | cut -d: -f1)
build_targets=()
for t in "${TARGETS[@]}"; do
  if grep -qx "$t" <<< "$all_targets"; then build_targets+=("$t"); else note "no target $t: not built"; fi
done
[ ${#build_targets[@]} -gt 0 ] || fail "none of the targets ${TARGETS[*]} exists"
step build build.log ninja -C "$BUILD" -j"$(nproc)" "${build_targets[@]}" || fail "build (see build.log)"

# The carried libraries must resolve on this OS; "not found" lines are the thing to look for.
{
  for bin in "$BUILD/torchzoo" "$BUILD/cli/torchzoo" "$BUILD/bench/transformer_base_bench"; do
    [ -x "$bin" ] || continue
    echo "== ldd $bin"
    ldd "$bin"
  done
} > "$OUT/ldd.txt" 2>&1 || true
if grep -q "not found" "$OUT/ldd.txt"; then
  note "ldd: unresolved libraries (see ldd.txt)"
else
  note "ldd: all resolved"
fi

# The [cuda] tests (ctest names cuda.*). Their golden values come from the fixture tests golden_values and
# bleu_golden; bleu_golden needs sacrebleu, which a bare machine may lack: then golden_values runs alone
# first and the cuda tests run without pulling in the fixture's setup tests (-FS golden).
if grep -qx test_cuda <<< "$all_targets"; then
  if grep -q -- --test-dir <<< "$(ctest --help 2> /dev/null)"; then
    ctest_cmd=(ctest --test-dir "$BUILD")
  else
    ctest_cmd=(env -C "$BUILD" ctest)  # CMake < 3.20 has no --test-dir
  fi
  if python3 -c 'import sacrebleu' 2> /dev/null; then
    step ctest_cuda ctest_cuda.log timeout 240 "${ctest_cmd[@]}" -R '^cuda\.' --output-on-failure || true
  else
    note "no sacrebleu here: golden_values alone, then the cuda tests with -FS golden"
    step ctest_cuda ctest_cuda.log timeout 240 bash -c \
      '"$@" -R "^golden_values$" --output-on-failure; "$@" -R "^cuda\." -FS golden --output-on-failure' \
      ctest_cuda "${ctest_cmd[@]}" || true
  fi
else
  note "ctest_cuda: skipped, no test_cuda target yet"
fi

# The base-Transformer benchmark at the base sizes (the driver's defaults), bf16 autocast and fp32.
step transformer_base transformer_base.log timeout 330 \
  python3 bench/run_transformer_base.py --bin "$BUILD/bench/transformer_base_bench" --device cuda \
  --autocast bf16,none --impls python,cpp,cpp-math --steps 20 --warmup-steps 5 --threads 4 --repeats 2 \
  --out "$OUT/transformer_base.json" || true

# The other benchmarks once each, where they take --device already.
for bench in vit_bench copy_task_bench; do
  bin="$BUILD/bench/$bench"
  if [ ! -x "$bin" ]; then
    note "$bench: not built"
    continue
  fi
  help=$("$bin" --help 2>&1 || true)
  if grep -q -- '--device' <<< "$help"; then
    step "$bench" "$bench.log" timeout 90 "$bin" --device cuda --json || true
  else
    note "$bench: skipped, it takes no --device yet"
  fi
done

note "done in $(($(date +%s) - started))s"
