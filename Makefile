# Thin wrapper over CMake: the README's two commands, `make demo` and
# `make test`, start here and do all set-up on a fresh Debian 12 machine.
BUILD     ?= build
SANITIZE  ?= 0
DB        ?= kxdata
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
KXMATCH    = $(BUILD)/kxmatch

.PHONY: all deps build test test-asan demo eval bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DSANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The browser tests' playwright-core, at the version pinned in tests/e2e,
# installed into the build tree (chromium itself comes from install-deps).
.PHONY: e2e-deps
test: e2e-deps
e2e-deps: deps
	@mkdir -p $(BUILD)/e2e
	@if ! cmp -s tests/e2e/package-lock.json $(BUILD)/e2e/package-lock.json || \
	    [ ! -d $(BUILD)/e2e/node_modules/playwright-core ]; then \
	  cp tests/e2e/package.json tests/e2e/package-lock.json $(BUILD)/e2e/ && \
	  cd $(BUILD)/e2e && npm ci --no-audit --no-fund --loglevel=error; fi

# The same suite under AddressSanitizer and UBSan, in its own build tree
# (the browser tests drive the same server code and are left to `test`).
test-asan:
	@$(MAKE) --no-print-directory test BUILD=$(BUILD)-asan SANITIZE=1 \
	    CTEST_ARGS="-LE e2e"

demo: build
	@scripts/demo.sh $(KXMATCH) $(DB)

# Ranking quality on the labelled set, the default against plain BM25.
eval: build
	@rm -rf $(BUILD)/eval-db
	@$(KXMATCH) index --quiet --db $(BUILD)/eval-db datasets/binzhou/*.jsonl
	@$(KXMATCH) eval --db $(BUILD)/eval-db --judgments datasets/eval/judgments.jsonl

# Scale and speed (issue 6): kxmatch beside scriptindex/quest, SQLite FTS5
# and nginx on generated records, one table (bench/README.md). Optimised
# build in its own tree; BENCH_SIZE=1000000 for the 1M table.
BENCH_SIZE ?= 100000
bench: deps
	@BENCH_SIZE=$(BENCH_SIZE) bench/run.sh $(BUILD)-release

# The Debian package (debian/): dpkg-buildpackage on a copy of the tree, so
# that the working tree gets none of its products; the .deb lands in
# $(BUILD)/ (kxmatch_VERSION_ARCH.deb) and lintian must find no error.
DEBDIR = $(abspath $(BUILD))/deb
.PHONY: deb
deb:
	@scripts/install-deps.sh deb
	@rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/src
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -z -co --exclude-standard | \
	    tar --null -T - --ignore-failed-read -cf - 2>/dev/null; \
	else tar --exclude='./build*' --exclude=./.git --exclude=./kxdata -cf - .; \
	fi | tar -xf - -C $(DEBDIR)/src
	@cd $(DEBDIR)/src && DEB_BUILD_OPTIONS="parallel=$(JOBS) $(DEB_BUILD_OPTIONS)" \
	  dpkg-buildpackage -us -uc -b
	@mv $(DEBDIR)/*.deb $(BUILD)/
	@deb=$$(cd $(DEBDIR)/src && echo kxmatch_$$(dpkg-parsechangelog -S Version)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb); \
	  lintian --fail-on error $(BUILD)/$$deb && echo "built $(BUILD)/$$deb"

# The tree with gcc's Release flags and with Debian's clang, each with
# -Werror: a warning that only an optimised build or another compiler sees
# fails here, not in a user's build.
.PHONY: compilers
compilers:
	@scripts/install-deps.sh compilers
	@cmake -S . -B $(BUILD)-gcc-release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)-gcc-release -j $(JOBS) --target kxmatch
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)-clang -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)-clang -j $(JOBS) --target kxmatch
	@echo "gcc Release and clang builds: no warnings"

# The parsers under libFuzzer with ASan and UBSan (tests/fuzz, issue 11):
# clang builds the harnesses in $(BUILD)-fuzz, then each runs FUZZ_TIME
# seconds on a scratch copy of its corpus in FUZZ_OUT (emptied first), and
# a crash, leak, hang or broken invariant fails. FUZZ_JOBS harnesses run
# at once; the default, one, takes about 5 minutes in all.
FUZZ_TIME ?= 60
FUZZ_JOBS ?= 1
FUZZ_OUT  ?= $(BUILD)-fuzz/fuzz-run
fuzz:
	@scripts/install-deps.sh compilers
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DKX_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzzers
	@tests/fuzz/run.sh $(BUILD)-fuzz $(FUZZ_TIME) $(FUZZ_JOBS) $(FUZZ_OUT)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-release $(BUILD)-gcc-release $(BUILD)-clang \
	    $(BUILD)-fuzz
