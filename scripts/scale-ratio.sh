#!/usr/bin/env bash
# scale-ratio.sh BIN SMALL_WORK LARGE_WORK ROUNDS TYPE... - the figure issue 10's speed goals are
# stated in: the large index's rows per CPU-second over the small one's, per query type. SMALL_WORK
# and LARGE_WORK are scripts/scale.sh work directories (scale.gbx, empty.txt, TYPE.rep). ROUNDS
# rounds alternate the two sizes (the small first in odd rounds), every run on one CPU
# (SCALE_CPU, else the first this shell may use), so that both sizes meet the same cache a few
# seconds apart; a run's CPU time less its size's header-only run (start, index open: the median
# of three) is the rows'. Prints one line per round and type:
#   round type small_rows_per_cpu_s large_rows_per_cpu_s ratio
# then per type the median ratio and the rounds' range. With CROSS=1 the large index also
# answers the small work directory's query files, which splits the ratio in two: what the
# index's size costs the same queries (index: large index over small, the small queries) and
# what the large set's own queries cost on it (queries: its queries over the small ones); the
# ratio is their product. Each line then ends with:
#   large_index_small_queries_rows_per_cpu_s index queries
set -euo pipefail
bin=${1:?usage: scale-ratio.sh BIN SMALL_WORK LARGE_WORK ROUNDS TYPE...}
small=${2:?}; large=${3:?}; rounds=${4:?}
shift 4
[ $# -gt 0 ] || { echo "scale-ratio.sh: name at least one query type (struct free typo)" >&2; exit 2; }
. "$(dirname "$0")/scale-common.sh" # cpu_pin, scale_cpu_s, scale_median, scale_summary
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.res"' EXIT
cpu() { scale_cpu_s "$bin" "$1/scale.gbx" "$2"; } # WORK FILE: on WORK's index
fixed_s=$(for _ in 1 2 3; do printf '%s ' "$(cpu "$small" "$small/empty.txt")"; done | scale_median)
fixed_l=$(for _ in 1 2 3; do printf '%s ' "$(cpu "$large" "$large/empty.txt")"; done | scale_median)
echo "fixed cpu_s: small $fixed_s large $fixed_l (CPU $cpu_pin)"
rate() { # WORK TYPE FIXED [QUERY_WORK]: rows per CPU-second of QUERY_WORK's (else WORK's) TYPE on WORK's index
    local c rows q=${4:-$1}
    c=$(cpu "$1" "$q/$2.rep")
    rows=$(($(wc -l <"$q/$2.rep") - 1))
    echo "$rows / ($c - $3)" | bc -l
}
for ((r = 1; r <= rounds; r++)); do
    for t in "$@"; do
        if ((r % 2)); then
            s=$(rate "$small" "$t" "$fixed_s"); l=$(rate "$large" "$t" "$fixed_l")
        else
            l=$(rate "$large" "$t" "$fixed_l"); s=$(rate "$small" "$t" "$fixed_s")
        fi
        printf '%d\t%s\t%.0f\t%.0f\t%.3f' "$r" "$t" "$s" "$l" "$(echo "$l / $s" | bc -l)"
        if [ "${CROSS:-0}" = 1 ]; then
            m=$(rate "$large" "$t" "$fixed_l" "$small")
            printf '\t%.0f\t%.3f\t%.3f' "$m" "$(echo "$m / $s" | bc -l)" "$(echo "$l / $m" | bc -l)"
        fi
        printf '\n'
    done
done | tee "$tmp.res"
echo "median large/small ratio:"
for t in "$@"; do
    awk -F'\t' -v t="$t" '$2 == t {print $5}' "$tmp.res" | scale_summary "$t" rounds
done
if [ "${CROSS:-0}" = 1 ]; then
    echo "median of the large index over the small on the small queries (index), and of the large queries over the small on the large index (queries):"
    for t in "$@"; do
        awk -F'\t' -v t="$t" '$2 == t {print $7}' "$tmp.res" | scale_summary "$t index" rounds
        awk -F'\t' -v t="$t" '$2 == t {print $8}' "$tmp.res" | scale_summary "$t queries" rounds
    done
fi
