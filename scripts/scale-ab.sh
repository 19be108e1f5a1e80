#!/usr/bin/env bash
# scale-ab.sh BEFORE AFTER WORK ROUNDS TYPE... - two geobatch binaries compared by CPU time on one
# scripts/scale.sh work directory (its scale.gbx, empty.txt and TYPE.rep files: each query file
# read REPEAT times over), for changes that keep the index format. ROUNDS rounds, the binaries
# alternating (BEFORE first in odd rounds, AFTER first in even ones); each round runs the
# header-only file first and takes its CPU time (start, index open) off every query file's.
# Prints one line per round, binary and type:
#   round binary type cpu_s fixed_s rows_per_cpu_s
# and then, per binary and type, the median of the rounds' rows_per_cpu_s, and per type the
# median of the rounds' AFTER / BEFORE ratios (on a host whose speed drifts from minute to
# minute, the steadier figure: each ratio compares two runs a few seconds apart), and the
# median over pairs of rounds (1 and 2, 3 and 4, ...) of each pair's geometric mean: one round
# of each order, so that the order's own effect cancels (the figure to read). For a change
# to what the builder writes, AFTER_WORK=DIR names a second work directory whose scale.gbx
# AFTER imported (the same query files): AFTER reads that one, BEFORE reads WORK's.
set -euo pipefail
before=${1:?usage: scale-ab.sh BEFORE AFTER WORK ROUNDS TYPE...}
after=${2:?}; work=${3:?}; rounds=${4:?}
shift 4
[ $# -gt 0 ] || { echo "scale-ab.sh: name at least one query type (struct free typo neg street)" >&2; exit 2; }
. "$(dirname "$0")/scale-common.sh" # cpu_pin, scale_cpu_s, scale_median, scale_summary
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.res"' EXIT
cpu() { scale_cpu_s "$1" "$idx" "$2"; } # BIN FILE: on $idx
for ((r = 1; r <= rounds; r++)); do
    # the order turns each round: of two runs of one binary, the second was the faster by 2 to
    # 4 % in the median here (30 pairs), which a fixed order would count as the change's
    order="before after"
    ((r % 2)) || order="after before"
    for which in $order; do
        bin=$before idx=$work/scale.gbx
        [ "$which" = after ] && bin=$after && idx=${AFTER_WORK:-$work}/scale.gbx
        fixed=$(cpu "$bin" "$work/empty.txt")
        for t in "$@"; do
            c=$(cpu "$bin" "$work/$t.rep")
            rows=$(($(wc -l <"$work/$t.rep") - 1))
            printf '%d\t%s\t%s\t%s\t%s\t%.0f\n' "$r" "$which" "$t" "$c" "$fixed" \
                "$(echo "$rows / ($c - $fixed)" | bc -l)"
        done
    done
done | tee "$tmp.res"
echo "median rows per CPU-second:"
for t in "$@"; do
    for which in before after; do
        awk -F'\t' -v t="$t" -v w="$which" '$2 == w && $3 == t {print $6}' "$tmp.res" |
            scale_median | awk -v t="$t" -v w="$which" '{printf "  %-7s %-6s %.0f\n", t, w, $1}'
    done
done
echo "median of the rounds' after/before ratios:"
for t in "$@"; do
    awk -F'\t' -v t="$t" '$3 == t {v[$1 " " $2] = $6; r[$1] = 1}
        END {for (k in r) if (v[k " before"] > 0) print v[k " after"] / v[k " before"]}' "$tmp.res" |
        scale_summary "$t" rounds
done
echo "median of the round pairs' after/before ratios (geometric mean of a pair's two orders):"
for t in "$@"; do
    awk -F'\t' -v t="$t" '$3 == t {v[$1 " " $2] = $6; if ($1 > n) n = $1}
        END {for (r = 1; r + 1 <= n; r += 2)
                 if (v[r " before"] > 0 && v[r + 1 " before"] > 0)
                     print sqrt(v[r " after"] / v[r " before"] * v[r + 1 " after"] / v[r + 1 " before"])}' \
        "$tmp.res" | scale_summary "$t" pairs
done
