#!/usr/bin/env bash
# scale.sh BIN ZIPF_DIR QUERY_DIR WORK [LABEL] - the country-scale figures of one index size.
# ZIPF_DIR is the output of ../shared/bench/scale/gen_zipf.py (OpenAddresses CSVs whose street
# names repeat across towns), QUERY_DIR that of gen_q.py. Imports ZIPF_DIR/*.csv into
# WORK/scale.gbx (kept when it exists: delete it after an index format change), geocodes each query file with one thread and prints
# one tab-separated line per query type:
#   label type rows cpu_s rows_per_cpu_s loop_rows_per_s p999_us index_2mib_pct within25 (and
#   the match levels); index_2mib_pct: how much of the index the kernel mapped in 2 MiB pages
# rows_per_cpu_s is the process's CPU time less a header-only run's (start, index open);
# loop_rows_per_s is geocode --stats' own figure: wall time of the row loop, one thread.
# plus the import's wall time, peak RSS and bytes per address; with IMPORT_MEMORY=SIZE, the
# same import again within --memory SIZE (its tables past it in temporary files in WORK): wall
# and CPU time, peak RSS, and whether the index is the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: scale.sh BIN ZIPF_DIR QUERY_DIR WORK [LABEL]}
zdir=${2:?}; qdir=${3:?}; work=${4:?}; label=${5:-$(basename "$zdir")}
shared=${GB_SHARED:-$here/../shared}
mkdir -p "$work"
rus=$here/bench/rusage.py
idx=$work/scale.gbx
# timed_import NAME OUT [ARGS...]: import ZIPF_DIR into OUT (import ARGS), its log in
# WORK/NAME.log; prints "wall_s=... cpu_s=... peak_rss_mb=..."
timed_import() {
    local name=$1 out=$2
    shift 2
    python3 "$rus" "$work/$name.rus" "$bin" import "$@" -o "$out" "$zdir"/*.csv >"$work/$name.log" 2>&1
    read -r wall user sys rss <"$work/$name.rus"
    printf 'wall_s=%s\tcpu_s=%.1f\tpeak_rss_mb=%.0f' "$wall" "$(echo "$user + $sys" | bc)" \
        "$(echo "$rss / 1024" | bc -l)"
}
if [ ! -s "$idx" ]; then
    took=$(timed_import import "$idx")
    addrs=$("$bin" check "$idx" | awk '$1 == "addresses" {print $2}')
    size=$(stat -c %s "$idx")
    printf '%s\timport\taddresses=%s\t%s\tbytes_per_address=%.1f\n' "$label" "$addrs" "$took" \
        "$(echo "$size / $addrs" | bc -l)"
fi
if [ -n "${IMPORT_MEMORY:-}" ]; then
    took=$(timed_import import-mem "$work/scale-mem.gbx" --memory "$IMPORT_MEMORY" --tmp "$work")
    same=no
    cmp -s "$idx" "$work/scale-mem.gbx" && same=yes
    rm -f "$work/scale-mem.gbx"
    printf '%s\timport\tmemory=%s\t%s\tsame_index=%s\n' "$label" "$IMPORT_MEMORY" "$took" "$same"
fi
cols=displayLatitude,displayLongitude,matchLevel
. "$here/scripts/scale-common.sh" # cpu_pin: every run on one CPU
# The fixed cost of a run (start, index open, normaliser) is measured on a header-only file and
# taken off each run's CPU time, so that rows_per_cpu_s is the geocoder's own rate. Twice: the
# first run reads the index into the page cache when it is not there (at 18.5 M about a second
# of CPU that no later run pays, which would make every rate below wrong), the second is kept.
head -1 "$qdir/free.txt" >"$work/empty.txt"
for _ in 1 2; do
    python3 "$rus" "$work/empty.rus" taskset -c "$cpu_pin" "$bin" geocode --index "$idx" --threads 1 --indelim='|' \
        --outdelim='|' --outcols=$cols --outputcombined=true --header=true "$work/empty.txt" >/dev/null
done
read -r _ user0 sys0 _ <"$work/empty.rus"
fixed=$(echo "$user0 + $sys0" | bc -l)
printf '%s\topen\tcpu_s=%.2f\n' "$label" "$fixed"
# Each query file is read REPEAT times over (100,000 rows from 20,000 by default), so that the
# rows' CPU time, not the run's fixed cost, decides the rate.
repeat=${REPEAT:-5}
for t in struct free street typo neg; do
    [ -f "$qdir/$t.txt" ] || continue
    q=$work/$t.rep
    { head -1 "$qdir/$t.txt"; for ((k = 0; k < repeat; k++)); do tail -n +2 "$qdir/$t.txt"; done; } >"$q"
    out=$work/$t.out
    python3 "$rus" "$work/$t.rus" taskset -c "$cpu_pin" "$bin" geocode --index "$idx" --threads 1 --stats --indelim='|' \
        --outdelim='|' --outcols=$cols --outputcombined=true --header=true "$q" >"$out" 2>"$work/$t.err"
    read -r wall user sys rss <"$work/$t.rus"
    rows=$(($(wc -l <"$q") - 1))
    cpu=$(echo "$user + $sys - $fixed" | bc -l)
    p999=$(sed -n 's/.*p999<=\([0-9.]*\).*/\1/p' "$work/$t.err")
    loop=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' "$work/$t.err")
    huge=$(sed -n 's/.*index_2mib_pages_pct=\([0-9a-z]*\).*/\1/p' "$work/$t.err")
    score=$(python3 "$shared/bench/scale/score_q.py" "$qdir/truth.tsv" "$out" --json 2>/dev/null |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["all"], " ".join(f"{k}={v}" for k, v in sorted(d["levels"].items())))' 2>/dev/null || echo '?')
    printf '%s\t%s\trows=%s\tcpu_s=%.2f\trows_per_cpu_s=%.0f\tloop_rows_per_s=%s\tp999_us=%s\tindex_2mib_pct=%s\twithin25=%s\n' \
        "$label" "$t" "$rows" "$cpu" "$(echo "$rows / $cpu" | bc -l)" "$loop" "$p999" "$huge" "$score"
done
