# The two commands a new user needs: `make demo` and `make test`.
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/test
DEMO_DB := build/demo.db
DEMO_SIZE ?= 200

BENCH ?= default

.PHONY: demo test bench deps build build-test clean

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DCASCADE_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

build-test: deps
	@cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DCASCADE_SANITIZE=ON -DCASCADE_WERROR=ON >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)

test: build-test
	@JOBS=$(JOBS) scripts/run-tests $(TEST_DIR)
	@scripts/run-fuzzers build/fuzz $(or $(FUZZ_SECONDS),10)

demo: build
	@scripts/demo $(RELEASE_DIR) $(DEMO_DB) $(DEMO_SIZE)

bench: build
	@scripts/install-deps --bench
	@python3 bench/run_bench.py $(RELEASE_DIR) $(BENCH)

clean:
	rm -rf build
