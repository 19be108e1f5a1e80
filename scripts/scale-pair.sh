#!/usr/bin/env bash
# scale-pair.sh BEFORE AFTER WORK PAIRS TYPE... - two geobatch binaries compared by CPU time on
# one scripts/scale.sh work directory (its scale.gbx and TYPE.rep files), run at the same time:
# BEFORE on CPU 0 and AFTER on CPU 1, then the other way round. Both runs of a pair meet the
# same minute of a host whose speed drifts from minute to minute (scale-ab.sh's rounds, a few
# seconds apart, spread by a quarter there), and the swap cancels one CPU being slower than the
# other. A pair's figure is the geometric mean of AFTER's two speeds over BEFORE's, each run's
# whole CPU time (start included). For a change to what the builder writes, AFTER_WORK=DIR
# names a work directory whose scale.gbx AFTER imported. Needs CPUs 0 and 1. Prints one line
# per pair and type:
#   pair type before_cpu0_s before_cpu1_s after_cpu0_s after_cpu1_s after/before
# and then per type the median over the pairs and their range.
set -euo pipefail
before=${1:?usage: scale-pair.sh BEFORE AFTER WORK PAIRS TYPE...}
after=${2:?}; work=${3:?}; pairs=${4:?}
shift 4
[ $# -gt 0 ] || { echo "scale-pair.sh: name at least one query type (struct free typo neg street)" >&2; exit 2; }
. "$(dirname "$0")/scale-common.sh" # scale_cpu_s, scale_summary
bidx=$work/scale.gbx
aidx=${AFTER_WORK:-$work}/scale.gbx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # BIN INDEX CPU FILE OUT: the run's CPU seconds into OUT
    cpu_pin=$3 scale_cpu_s "$1" "$2" "$4" >"$5"
}
for ((p = 1; p <= pairs; p++)); do
    for t in "$@"; do
        q=$work/$t.rep
        run "$before" "$bidx" 0 "$q" "$tmp/b0" &
        run "$after" "$aidx" 1 "$q" "$tmp/a1" &
        wait
        run "$before" "$bidx" 1 "$q" "$tmp/b1" &
        run "$after" "$aidx" 0 "$q" "$tmp/a0" &
        wait
        b0=$(cat "$tmp/b0") b1=$(cat "$tmp/b1") a0=$(cat "$tmp/a0") a1=$(cat "$tmp/a1")
        printf '%d\t%s\t%s\t%s\t%s\t%s\t%.3f\n' "$p" "$t" "$b0" "$b1" "$a0" "$a1" \
            "$(echo "sqrt(($b0 / $a1) * ($b1 / $a0))" | bc -l)"
    done
done | tee "$tmp/res"
echo "median after/before speed over the pairs:"
for t in "$@"; do
    awk -v t="$t" '$2 == t {print $7}' "$tmp/res" | scale_summary "$t" pairs
done
