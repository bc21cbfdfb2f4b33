# Entry points for a fresh machine (see README.md):
#   make copy-task   install what is missing, build, train configs/copy_task.yaml
#   make test        install what is missing, build, run the whole test suite
#   make sanitize    the suite built with clang, ASan and UBSan (build-sanitize), each fuzz target on 40k seeded inputs
#   make fuzz        every libFuzzer target for FUZZ_SECONDS each (build-sanitize)
#   make docs        the HTML API reference (Doxygen) in $(BUILD)/docs/html; fails on an undocumented public class
BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 300

.PHONY: setup configure build copy-task test bench sanitize-configure sanitize fuzz docs clean

setup:
	bash scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

copy-task: build
	$(BUILD)/torchzoo train configs/copy_task.yaml

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	python3 bench/run_copy_task.py --bin $(BUILD)/bench/copy_task_bench

# One clang build serves both: ASan and UBSan everywhere, libFuzzer coverage too.
# The kernel-path reruns, the install and header checks and the benches are left out.
sanitize-configure: setup
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
	  -DTORCHZOO_SANITIZE=address,undefined -DTORCHZOO_FUZZ=ON -DTORCHZOO_BUILD_BENCH=OFF \
	  -DTORCHZOO_TEST_KERNEL_PATHS=OFF $(CMAKE_FLAGS)

sanitize: sanitize-configure
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz: sanitize-configure
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target fuzz_targets
	python3 tests/fuzz/run_fuzz.py --bin-dir $(SANITIZE_BUILD)/fuzz --work $(SANITIZE_BUILD)/fuzz-work \
	  --seconds $(FUZZ_SECONDS) --json $(SANITIZE_BUILD)/fuzz-work/results.json

# docs/build_docs.py runs doxygen on docs/Doxyfile and judges its warnings (docs/Doxyfile says how).
docs: setup
	python3 docs/build_docs.py --out $(BUILD)/docs

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
