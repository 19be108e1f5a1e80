#!/usr/bin/env bash
# bench-scale.sh BIN SHARED WORK SMALL LARGE - `make bench-scale`: for each row count, generate
# the country-like input once (gen_zipf.py, gen_q.py; kept in WORK), import it and run
# scripts/scale.sh; print both tables and the large/small ratio of each query type's rate. The
# large size is imported a second time within --memory IMPORT_MEMORY (default 256M); then the
# large/small ratio of rows per CPU-second, sizes alternated on one CPU (scripts/scale-ratio.sh,
# RATIO_ROUNDS rounds, default 6; with the large index's time on the small queries, which splits
# the ratio into the index's part and the queries' part, unless RATIO_CROSS=0). With MEMLAT=BIN
# (bench/memlat.c, `make bench-scale` builds it), the machine's memory latency before and after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: bench-scale.sh BIN SHARED WORK SMALL LARGE}
shared=${2:?}; work=${3:?}; small=${4:?}; large=${5:?}
gen=$shared/bench/scale
mkdir -p "$work"
. "$here/scale-common.sh" # cpu_pin
# The memory these rates meet (bench/memlat.c): reads at random, one waiting for the line before,
# independent ones, one in the page of the one before, one asked for ahead and reads asked for
# together a burst ahead, in an area of the
# 0.1 M index's size, of 64 MiB (far past the TLB's reach, but its page tables stay cached) and
# of the 18.5 M index's size.
memlat() { # WHEN
    [ -z "${MEMLAT:-}" ] && return
    echo "memory at random, CPU $cpu_pin, $1 (bench/memlat.c):"
    taskset -c "$cpu_pin" "$MEMLAT" 8 64 1300 | sed 's/^/  /'
}
memlat before
for rows in "$small" "$large"; do
    d=$work/z$rows
    if [ ! -s "$d/sample.tsv" ]; then
        python3 "$gen/gen_zipf.py" "$shared" "$d" --rows "$rows" >"$work/gen-$rows.log"
        python3 "$gen/gen_q.py" "$d/sample.tsv" "$d-q" 20000 >>"$work/gen-$rows.log"
    fi
    rm -f "$work/run$rows/scale.gbx" # the index is the binary's own
    mem=
    [ "$rows" != "$large" ] || mem=${IMPORT_MEMORY:-256M}
    IMPORT_MEMORY=$mem GB_SHARED=$shared "$here/scale.sh" "$bin" "$d" "$d-q" "$work/run$rows" "rows=$rows" |
        tee "$work/scale-$rows.tsv"
done
echo "large/small ratio of loop_rows_per_s:"
join -t $'\t' <(awk -F'\t' '$3 ~ /^rows=/ {split($6, a, "="); print $2 "\t" a[2]}' "$work/scale-$small.tsv" | sort) \
    <(awk -F'\t' '$3 ~ /^rows=/ {split($6, a, "="); print $2 "\t" a[2]}' "$work/scale-$large.tsv" | sort) |
    awk -F'\t' '{ printf "  %-7s %8d -> %8d rows/s  x%.2f\n", $1, $2, $3, ($2 > 0 ? $3 / $2 : 0) }'
# The goals' figure (issue 10): the sizes alternated on one CPU, CPU time (scripts/scale-ratio.sh;
# REPEAT=25 gives runs long enough at 0.1 M for a steadier median), then the memory again: a
# ratio counts only with the cache as quiet after as before.
CROSS=${RATIO_CROSS:-1} "$here/scale-ratio.sh" "$bin" "$work/run$small" "$work/run$large" "${RATIO_ROUNDS:-6}" struct free typo
memlat after
