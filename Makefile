# geobatch: a thin front for CMake. `make run` and `make test` are the two set-up commands.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TYPE       ?= Release
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SHARED     ?= $(abspath ../shared)
DATA       ?=
PORT       ?= 8080
SECONDS    ?= 20

# Exactly the Debian packages the project needs to build, test and run.
PKGS := gcc make cmake pkg-config git python3 curl unzip zip clang libclang-rt-14-dev \
        libmicrohttpd-dev libjansson-dev libarchive-dev libutf8proc-dev libsqlite3-dev \
        libreadosm-dev libexpat1-dev zlib1g-dev libdeflate-dev libbz2-dev libcmocka-dev libpq-dev \
        postgresql haproxy \
        ruby-geocoder python3-geopy python3-pyosmium chromium
# npm for the real HERE clients (test/e2e/here_clients.sh): only when the command is missing,
# since nodesource's nodejs carries its own npm and conflicts with Debian's package.
NPM_PKG := npm

PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps build install deb test test-asan test-large eval run bench bench-cluster bench-scale bench-osm fuzz soak fmt clean

all: build

deps:
	@scripts/deps.sh $(PKGS)
	@command -v npm >/dev/null || scripts/deps.sh $(NPM_PKG)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(TYPE) -DGB_SHARED_DIR=$(SHARED)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# PREFIX/bin/geobatch, its dictionaries in PREFIX/share/geobatch/dict, its man pages (made from
# --help) in PREFIX/share/man; DESTDIR=/some/root stages it there.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# The Debian package of debian/ (dpkg-buildpackage with debhelper, in a copy of the tree under
# $(BUILD)/deb), then lintian on it: scripts/deb.sh. Result: $(BUILD)/deb/geobatch_VERSION_ARCH.deb.
DEB_PKGS := debhelper dpkg-dev fakeroot lintian
deb: deps
	@scripts/deps.sh $(DEB_PKGS)
	scripts/deb.sh $(abspath $(BUILD))/deb

# Every test through ctest, then the whole suite again built with ASan and UBSan (the unit
# tests and the end-to-end ones: the server, the CLI, the accuracy kit), then every fuzz
# target for FUZZ_SECONDS (20) on its corpus.
FUZZ_SECONDS ?= 20
test: build
	@scripts/deps.sh $(DEB_PKGS) # test/e2e/deb_package.sh builds the package
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory fuzz SECONDS=$(FUZZ_SECONDS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DGB_SANITIZE=ON -DGB_SHARED_DIR=$(SHARED)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The index at planet size: one whose string section passes 4 GiB (4.6 M synthetic addresses
# on 46,000 streets, each with a county of 100 KB), built with the default --memory 2G, opened
# (every checksum), every county read back, geocoded from in-process and through the CLI (scripts/test-large.sh;
# docs/scale.md has its time, memory and disk). Work files in $(BUILD)/large; the index is
# removed at the end (KEEP=1 keeps it). make test runs the same code paths with the limits
# forced down (test_index_scale).
test-large: build
	cmake --build $(BUILD) --target large_strings -j $(JOBS)
	scripts/test-large.sh $(abspath $(BUILD)) $(abspath $(BUILD))/large

# The accuracy kit of ../shared/eval, then this repository's real-world sets (issue 11): writing
# styles, consistency (postcodes, regions, wrong towns), the 2026 addresses against the 2024 map.
eval: build
	$(SHARED)/eval/run-dev.sh $(abspath $(BUILD))/geobatch $(abspath $(BUILD))/eval
	@scripts/deps.sh python3-pyosmium
	test/eval/realworld/run.sh $(abspath $(BUILD))/geobatch $(SHARED) $(abspath $(BUILD))/eval-realworld
	/usr/bin/python3 test/eval/realworld/consist_realworld.py $(abspath $(BUILD))/geobatch $(abspath $(BUILD))/eval-consist
	/usr/bin/python3 test/eval/realworld/consist_oldmap.py $(abspath $(BUILD))/geobatch $(abspath $(BUILD))/eval-oldmap \
	    --max-false-precision 0.001

run: build
	scripts/run.sh $(abspath $(BUILD))/geobatch "$(DATA)" $(PORT)

# Figures for the README's performance table; wrk (Debian) drives the status-latency load.
bench: build
	@scripts/deps.sh wrk linux-perf
	scripts/bench.sh $(abspath $(BUILD))/geobatch $(SHARED)

# The PostgreSQL cluster (docs/scale-out.md): a ROWS-row job on the SQLite node and on a cluster
# with 1 and 2 `geobatch work`: rows/s, CPU seconds, per-worker efficiency, PostgreSQL
# transactions per chunk (scripts/bench-cluster.sh).
ROWS ?= 1000000
bench-cluster: build
	@scripts/deps.sh postgresql bc
	scripts/bench-cluster.sh $(abspath $(BUILD))/geobatch $(SHARED) $(ROWS)

# Country scale: street names that repeat across towns (../shared/bench/scale/), one index of
# SMALL and one of LARGE generated rows (0.1 M and 18.5 M addresses), 20,000 queries of each
# kind, one thread: import time and memory (LARGE also within --memory 256M), rows per
# CPU-second, p99.9 and within 25 m (scripts/scale.sh; docs/scale.md), then the large/small
# ratio of rows per CPU-second with the sizes alternated on one CPU (scripts/scale-ratio.sh),
# between two readings of the machine's memory latency (bench/memlat.c). Work files in
# $(BUILD)/scale (about 3 GB for LARGE).
SMALL ?= 110000
LARGE ?= 22000000
bench-scale: build
	cmake --build $(BUILD) --target memlat -j $(JOBS)
	MEMLAT=$(abspath $(BUILD))/memlat scripts/bench-scale.sh $(abspath $(BUILD))/geobatch $(SHARED) $(abspath $(BUILD))/scale $(SMALL) $(LARGE)

# OSM at scale: a synthetic extract of COPIES shifted copies of Liechtenstein (128: 45 M nodes,
# made once in $(BUILD)/bench-osm, about an hour), imported with 1 and 2 threads: nodes per
# CPU-second, bytes of peak RSS per node, the speed-up, and the Germany and planet projections;
# the ways' points joined against looked up; then the node lookups and the join on real data
# against smaller mapped budgets (scripts/bench-osm.sh; docs/scale.md). BEFORE=/path/to/geobatch measures another build beside.
COPIES ?= 128
BEFORE ?=
bench-osm: build
	@scripts/deps.sh python3-pyosmium
	BEFORE=$(BEFORE) scripts/bench-osm.sh $(abspath $(BUILD))/geobatch $(SHARED) $(abspath $(BUILD))/bench-osm $(COPIES)

# libFuzzer targets (clang): each runs SECONDS on fuzz/corpus/, after replaying test/fuzz_regress/.
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGB_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
	    -DGB_SHARED_DIR=$(SHARED) >/dev/null
	scripts/fuzz.sh build-fuzz $(SECONDS)

# A mixed load against a real server for MINUTES, verified against `geobatch geocode`.
MINUTES ?= 5
soak: build
	scripts/soak.sh $(abspath $(BUILD))/geobatch $(SHARED) $(MINUTES)

fmt:
	clang-format -i src/*/*.c src/*/*.h test/*.c test/*.h fuzz/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
