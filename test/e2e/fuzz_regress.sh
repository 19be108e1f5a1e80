#!/usr/bin/env bash
# test/e2e/fuzz_regress.sh - replay the inputs that once crashed a fuzz target
# (test/fuzz_regress/<target>/*) through that target's libFuzzer binary, so a fixed crash stays
# fixed. The binaries live in a clang fuzz build (GB_FUZZ_BUILD, default $GB_SRC/build-fuzz,
# made by `make fuzz`); it is brought up to date first. Without one, or without any saved
# input, the test is skipped (exit 0 with a message): a plain gcc build cannot make them.
set -u
src=${GB_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fb=${GB_FUZZ_BUILD:-$src/build-fuzz}

inputs=$(find "$src/test/fuzz_regress" -mindepth 2 -maxdepth 2 -type f 2>/dev/null | wc -l)
if [ "$inputs" -eq 0 ]; then
    echo "SKIP: no saved fuzz inputs under test/fuzz_regress/"
    exit 0
fi
if [ ! -f "$fb/CMakeCache.txt" ]; then
    echo "SKIP: no fuzz build at $fb (configure one with: cmake -S . -B build-fuzz" \
        "-DCMAKE_C_COMPILER=clang -DGB_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug)"
    exit 0
fi
if ! cmake --build "$fb" -j2 --target fuzz_all >"$fb/fuzz-regress-build.log" 2>&1; then
    tail -20 "$fb/fuzz-regress-build.log"
    echo "FAIL: the fuzz build at $fb does not build (log: $fb/fuzz-regress-build.log)"
    exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:disable_coredump=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tmp=$(mktemp -d "${GB_TMP:-/tmp}/fuzzreg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

fail=0
for d in "$src"/test/fuzz_regress/*/; do
    t=$(basename "$d")
    bin=$fb/fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "FAIL: $t: inputs saved but no binary $bin"
        fail=1
        continue
    fi
    for f in "$d"*; do
        [ -f "$f" ] || continue
        if "$bin" -runs=1 "$f" >"$tmp/out" 2>&1; then
            echo "ok   $t $(basename "$f")"
        else
            echo "FAIL $t $(basename "$f"):"
            grep -E 'ERROR|runtime error|#[0-9]+ .*(src|fuzz)/' "$tmp/out" | head -15
            fail=1
        fi
    done
done
exit $fail
