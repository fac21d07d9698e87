# tessera: the two commands a new machine needs are `make run` and `make test` (see README.md).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# ccache hits across fresh clones in other folders (CI): paths are hashed relative to the checkout.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps build run test test-unit bench clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	bash scripts/build-web.sh

# The main job on the embedded SQLite default: generate a time-lapse, import it, list and summarise.
run: build
	bash scripts/demo.sh $(BUILD)/cli/tessera demo

# Every test: unit and scenario suites on SQLite, and the catalog suites again on a private PostgreSQL.
test: build
	bash scripts/test.sh $(BUILD)

# Every scripts/bench*.sh; TESSERA_BENCH_SMOKE=1 makes each one run at a small size (CI).
bench: build
	set -e; for s in scripts/bench.sh scripts/bench_*.sh; do bash $$s $(BUILD); done

clean:
	rm -rf $(BUILD) demo
