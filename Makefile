# Entry points for a fresh machine (see README.md):
#   make copy-task   install what is missing, build, train configs/copy_task.yaml
#   make test        install what is missing, build, run the whole test suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: setup configure build copy-task test bench clean

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

clean:
	rm -rf $(BUILD)
