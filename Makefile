# The two commands a new user needs: `make demo` and `make test`.
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/test
DEMO_DB := build/demo.db
DEMO_SIZE ?= 200

BENCH ?= default
SEEDS ?= 200
DB ?= sqlite

.PHONY: demo test bench conformance deps build build-test clean

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
	@if [ "$(BACKEND)" = postgres ]; then scripts/install-deps --bench-postgres; \
	  else scripts/install-deps --bench; fi
	@/usr/bin/python3 bench/run_bench.py $(RELEASE_DIR) $(BENCH) --backend $(or $(BACKEND),sqlite) $(if $(EXPLAIN),--explain)

# Django as the oracle (tests/oracle/README.md): SEEDS random scripts run side by side in
# Django 3.2's shell and in `cascade shell`; DB=postgres runs them on a throw-away server.
conformance: build-test
	@if [ "$(DB)" = postgres ]; then \
	  scripts/install-deps --postgres-server || exit 1; \
	  dir=$$(mktemp -d /tmp/cascade-pg.XXXXXX); url=$$(scripts/pg-test-server start $$dir) || exit 1; \
	  /usr/bin/python3 tests/oracle/run.py --tool $(TEST_DIR)/src/cascade --seeds 1..$(SEEDS) \
	    -j $(JOBS) --db postgres $$url --keep build/oracle-failures; rc=$$?; \
	  scripts/pg-test-server stop $$dir; exit $$rc; \
	else \
	  /usr/bin/python3 tests/oracle/run.py --tool $(TEST_DIR)/src/cascade --seeds 1..$(SEEDS) \
	    -j $(JOBS) --keep build/oracle-failures; \
	fi

clean:
	rm -rf build
