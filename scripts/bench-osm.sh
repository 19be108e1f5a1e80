#!/usr/bin/env bash
# bench-osm.sh BIN SHARED WORK [COPIES] - `make bench-osm`: the OSM importer at scale.
#
# Makes WORK/tileCOPIES.osm.pbf once (../shared/bench/scale/osm_tile.py: COPIES shifted copies
# of the Liechtenstein extract, 351,593 nodes each: 128 copies are 45 M nodes; it needs Debian's
# python3-pyosmium and takes about an hour on a busy 2-core machine), then imports it with 1 and
# 2 decoding threads, alternating (1, 2, 1, 2, ...: ROUNDS pairs), and Liechtenstein itself
# (the fixed cost), and, when BEFORE names another geobatch binary (e.g. a build of the commit before this reader),
# the tile with that one too. Temp files (node file, pending-object log) go to WORK. On a shared
# machine wall-clock times (and so the speed-up) mean little; NICE=-19 runs the imports at that
# priority (as root) so that the other work yields the cores for the few seconds they take.
#
# One line per run (TSV, also in WORK/bench-osm.tsv): label, threads, nodes, then for the whole
# import wall s, CPU s (user+sys, every thread), peak RSS MB, M nodes per CPU-second, bytes of
# peak RSS per node, and for the reading alone (the three passes over the file, from the
# importer's log line) wall s, CPU s, M nodes per CPU-second, peak RSS MB, CPU s of the passes
# themselves on the thread that runs them (the part that is not parallel). Then the 1-thread /
# 2-thread speed-ups (best wall of each, and round by round with their median; and the bound
# the serial part sets on 2 idle cores), the RSS growth per node between Liechtenstein and the
# tile, and from it and the CPU rates the projections for Germany (450 M nodes) and the planet
# (9.5 G nodes). Every import runs with --memory MEMORY (default 256M: the node file mapped up
# to 64 MiB at once, as before the budget followed --memory), so that the tile's mapped node
# file does not pass for RAM that grows with its nodes, and looks the ways' nodes up
# (--osm-join never, as before the join), so that the figures compare with earlier ones.
#
# Then the tile with the ways' points joined (--osm-join always) against looked up, alternating,
# ROUNDS_JOIN (default 2) times on 1 and 2 threads: the reading's CPU, wall and peak.
#
# Then the node lookups' locality on real data: Liechtenstein on one thread with --memory 2G,
# 8M, 4M, 2M and 1M (the node file mapped up to a quarter of it: all of its 4 MiB file, then
# 1/2 to 1/16 of it), three times each, looked up and joined: the budget, the mapping's drops
# and the reading's CPU time (a country's node file against a budget in the same ratio pays
# about as much more).
set -euo pipefail
bin=${1:?usage: bench-osm.sh BIN SHARED WORK [COPIES]}
shared=${2:?}
work=${3:?}
copies=${4:-128}
before=${BEFORE:-}
ROUNDS_JOIN=${ROUNDS_JOIN:-2}
memory=${MEMORY:-256M}
li=$shared/data/osm/liechtenstein-2026-03-29.osm.pbf
tile=$work/tile$copies.osm.pbf
mkdir -p "$work"
export TMPDIR=$work

if [ ! -s "$tile" ]; then
    py=python3
    $py -c 'import osmium' 2>/dev/null || py=/usr/bin/python3
    echo "bench-osm: making $tile ($copies copies; this takes a while)" >&2
    $py "$shared/bench/scale/osm_tile.py" "$li" "$work/tmp-tile$copies.osm.pbf" "$copies"
    mv "$work/tmp-tile$copies.osm.pbf" "$tile"
fi

out=$work/bench-osm.tsv
: >"$out"
# run LABEL BINARY THREADS FILE [ARGS...]: one import, one TSV line (THREADS "-": the
# binary's default)
run() {
    local label=$1 b=$2 t=$3 f=$4 args=("${@:5}")
    [ "$t" = - ] || args+=(--threads "$t")
    local pre=()
    [ -z "${NICE:-}" ] || pre=(nice -n "$NICE")
    "${pre[@]}" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
        "$b" import --memory "$memory" "${args[@]}" -o "$work/bench-osm.gbx" "$f" 2>"$work/log.txt"
    local line
    line=$(grep 'osm import' "$work/log.txt" | tail -1)
    field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
    read -r wall user sys rss <"$work/time.txt"
    awk -v l="$label" -v t="$t" -v n="$(field nodes)" -v w="$wall" -v u="$user" -v s="$sys" \
        -v r="$rss" -v rm="$(field read_ms)" -v rc="$(field read_cpu_ms)" \
        -v rr="$(field read_peak_rss_mb)" -v rmc="$(field read_main_cpu_ms)" 'BEGIN {
            cpu = u + s
            printf "%s\t%s\t%d\t%.2f\t%.2f\t%.0f\t%.2f\t%.1f", l, t, n, w, cpu, r / 1024,
                n / cpu / 1e6, r * 1024 / n
            if (rm != "")
                printf "\t%.2f\t%.2f\t%.2f\t%.0f\t%.2f", rm / 1000, rc / 1000, n / (rc / 1000) / 1e6, rr,
                    rmc / 1000
            printf "\n"
        }' | tee -a "$out"
}

printf 'label\tthreads\tnodes\twall_s\tcpu_s\tpeak_rss_mb\tMnodes_per_cpu_s\tbytes_per_node' >&2
printf '\tread_wall_s\tread_cpu_s\tread_Mnodes_per_cpu_s\tread_peak_rss_mb\tread_main_cpu_s\n' >&2
run li "$bin" 1 "$li" --osm-join never
run li "$bin" 2 "$li" --osm-join never
# ROUNDS (default 3) alternating pairs: on a shared virtual machine the same import's wall time
# varies by a quarter from run to run, and the best of each count is kept
for ((round = 1; round <= ${ROUNDS:-3}; round++)); do
    run tile "$bin" 1 "$tile" --osm-join never
    run tile "$bin" 2 "$tile" --osm-join never
done
[ -z "$before" ] || run before "$before" - "$tile"
uptime >&2

awk -F'\t' '
    $1 == "li" && $2 == 2 { lin = $3; lirss = $6; lirr = $12 }
    $1 == "tile" { n = $3
        if (!($2 in w) || $4 < w[$2]) w[$2] = $4
        if (!($2 in rw) || $9 < rw[$2]) rw[$2] = $9
        if (!($2 in c) || $5 < c[$2]) { c[$2] = $5; rc[$2] = $10 }
        if ($2 == 1) last1 = $9
        if ($2 == 2 && last1) pair[++np] = last1 / $9 # this round: 1 thread, then 2
        if ($2 == 2) { rss = $6; rr = $12; if (!m2 || $13 < m2) { m2 = $13; c2 = $10 } } }
    $1 == "before" { bn = $3; bc = $5; brss = $6 }
    END {
        printf "tile: %.1f M nodes\n", n / 1e6
        printf "speed-up 1 -> 2 threads (best wall): whole import x%.2f, reading x%.2f\n",
            w[1] / w[2], rw[1] / rw[2]
        # the rounds pair by pair, sorted: the median says more than the best of each on a
        # machine whose speed moves
        for (i = 1; i <= np; i++)
            for (j = i + 1; j <= np; j++)
                if (pair[j] < pair[i]) { t = pair[i]; pair[i] = pair[j]; pair[j] = t }
        if (np)
            printf "reading, round by round (1 thread / 2 threads): x%.2f to x%.2f, median x%.2f\n",
                pair[1], pair[np], np % 2 ? pair[(np + 1) / 2] : (pair[np / 2] + pair[np / 2 + 1]) / 2
        printf "reading on 2 threads: the passes %.2f CPU-s (not parallel) of %.2f: at most x%.2f on 2 idle cores\n",
            m2, c2, rc[1] / (m2 > c2 / 2 ? m2 : c2 / 2)
        printf "CPU per M nodes (1 thread): whole %.3f s, reading %.3f s (%.1f M nodes per CPU-s)\n",
            c[1] / n * 1e6, rc[1] / n * 1e6, n / rc[1] / 1e6
        slope = (rss - lirss) * 1048576 / (n - lin); rslope = (rr - lirr) * 1048576 / (n - lin)
        printf "peak RSS growth per node, Liechtenstein -> tile: whole import %.2f bytes, reading %.2f bytes\n",
            slope, rslope
        split("Germany 450e6 planet 9.5e9", p, " ")
        for (i = 1; i < 4; i += 2) {
            N = p[i + 1]
            printf "%s (%.2g nodes): peak RSS %.1f GB whole import, %.1f GB reading; %.1f CPU-hours (reading %.1f)\n",
                p[i], N, (lirss * 1048576 + slope * N) / 1e9, (lirr * 1048576 + rslope * N) / 1e9,
                c[1] / n * N / 3600, rc[1] / n * N / 3600
        }
        if (bn)
            printf "before: %.2f CPU-s (%.2f M nodes per CPU-s), %.0f MB (%.1f bytes per node)\n",
                bc, bn / bc / 1e6, brss, brss * 1048576 / bn
    }' "$out"

# The ways' points joined instead of looked up (--osm-join always, what auto does when the node
# file is larger than a quarter of --memory), alternating with the lookups, 1 and 2 threads.
echo "the tile's ways' points, looked up and joined (--memory $memory; best of $ROUNDS_JOIN):"
for ((round = 1; round <= ROUNDS_JOIN; round++)); do
    for t in 1 2; do
        run "lookup$t" "$bin" $t "$tile" --osm-join never >/dev/null
        run "join$t" "$bin" $t "$tile" --osm-join always >/dev/null
    done
done
grep -o 'osm join .*' "$work/log.txt" | sed 's/.* ways=/  the last join: ways=/'
awk -F'\t' '$1 ~ /^(lookup|join)/ { k = $1
        if (!(k in c) || $10 < c[k]) { c[k] = $10; w[k] = $9; r[k] = $12 } }
    END { for (t = 1; t <= 2; t++)
        printf "  %d thread(s): reading CPU %.2f s looked up, %.2f s joined (x%.2f); wall %.2f / %.2f s; reading peak %d / %d MB\n",
            t, c["lookup" t], c["join" t], c["lookup" t] / c["join" t], w["lookup" t], w["join" t],
            r["lookup" t], r["join" t] }' "$out"

echo "node lookups on real data (Liechtenstein, 1 thread: three runs of each, looked up and joined):"
for m in 2G 8M 4M 2M 1M; do
    for _ in 1 2 3; do
        for j in never always; do
            "$bin" import --threads 1 --memory $m --osm-join $j -o "$work/bench-osm.gbx" "$li" \
                2>"$work/log.txt"
            line=$(grep 'osm import' "$work/log.txt" | tail -1)
            printf '%s %s' "$m" "$j"
            for f in node_file_mb node_map_budget_kb node_unmaps read_cpu_ms; do
                printf '\t%s' "$(sed -n "s/.* $f=\([0-9]*\).*/\1/p" <<<"$line")"
            done
            echo
        done
    done
done | awk -F'\t' '{ v[$1] = v[$1] " " $5; b[$1] = $3; d[$1] = $4; f[$1] = $2; o[NR] = $1 }
    END { for (i = 1; i <= NR; i++) if (!(o[i] in seen)) { seen[o[i]] = 1; m = o[i]
        printf "  --memory %-10s budget %7d KiB (file %d MiB): %5d drops, reading CPU ms:%s\n",
            m, b[m], f[m], d[m], v[m] } }'
