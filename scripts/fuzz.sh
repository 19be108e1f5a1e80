#!/usr/bin/env bash
# scripts/fuzz.sh - build and run every libFuzzer target in fuzz/ for a while (make fuzz).
#
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is configured with clang and -DGB_FUZZ=ON when it has no CMakeCache.txt yet, and
# the targets are (re)built. For each target, the inputs that once crashed it
# (test/fuzz_regress/<target>/*) are replayed first, then it fuzzes for SECONDS starting from
# the seeds in fuzz/corpus/<target>/; the inputs it finds are kept in
# BUILD_DIR/fuzz-corpus/<target>/ (never in the repository), and crash, leak or timeout inputs
# in BUILD_DIR/fuzz-artifacts/<target>/. Exit 0 when every target ran clean, 1 when any replay
# or run reported a crash, leak or sanitizer error, 2 on a usage or build error.
set -u

usage() {
    echo "usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
build=$1
seconds=$2
shift 2
case $seconds in '' | *[!0-9]*) usage ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$PWD/$build ;; esac

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DGB_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 2
fi
cmake --build "$build" -j2 --target fuzz_all >"$build/fuzz-build.log" 2>&1 || {
    tail -30 "$build/fuzz-build.log" >&2
    echo "fuzz: build failed (log: $build/fuzz-build.log)" >&2
    exit 2
}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in "$root"/fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        targets+=("$t")
    done
fi

# Leaks count as failures; UB aborts with a stack trace; no core files.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:disable_coredump=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

failed=()
for t in "${targets[@]}"; do
    bin=$build/fuzz/$t
    if [ ! -x "$bin" ]; then
        echo "fuzz: $t: no binary at $bin" >&2
        failed+=("$t(missing)")
        continue
    fi
    logdir=$build/fuzz-logs
    mkdir -p "$logdir" "$build/fuzz-corpus/$t" "$build/fuzz-artifacts/$t"

    # 1. the inputs that once crashed
    regress=("$root/test/fuzz_regress/$t"/*)
    if [ -e "${regress[0]}" ]; then
        if ! "$bin" -runs=1 "${regress[@]}" >"$logdir/$t.regress.log" 2>&1; then
            echo "fuzz: $t: a regression input fails again:" >&2
            grep -E 'ERROR|runtime error|Running:|#[0-9]+ ' "$logdir/$t.regress.log" | head -25 >&2
            failed+=("$t(regress)")
        else
            echo "fuzz: $t: ${#regress[@]} regression input(s) pass"
        fi
    fi

    # 2. fuzzing from the seeds
    seeds=$root/fuzz/corpus/$t
    [ -d "$seeds" ] || seeds=
    "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-artifacts/$t/" \
        "$build/fuzz-corpus/$t" $seeds >"$logdir/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logdir/$t.log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$logdir/$t.log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz: $t: FAILED (exit $rc, ${execs:-?} runs) log: $logdir/$t.log" >&2
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|#[0-9]+ .*(src|fuzz)/' \
            "$logdir/$t.log" | head -25 >&2
        failed+=("$t")
    else
        echo "fuzz: $t: ok, ${execs:-?} runs in ${seconds}s, ${cov:-cov ?}," \
            "corpus $(ls "$build/fuzz-corpus/$t" | wc -l) inputs"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (minimise with: BIN -minimize_crash=1 -runs=10000 INPUT," \
        "then save it under test/fuzz_regress/TARGET/)" >&2
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
