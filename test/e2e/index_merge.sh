#!/usr/bin/env bash
# index_merge.sh - `geobatch merge` on the real data: the four dev areas (Liechtenstein, Lauf,
# north-east Prague from OSM, San Francisco from OpenAddresses) imported one by one and merged
# give the very bytes of one import of all four, in any order of the inputs (the order of the
# joint import's files), and so do generated country-scale inputs whose address ids look like
# another country's postcodes; the result passes `geobatch check`; an index of another format
# version, a source in two inputs, a missing input and the output among the inputs are refused
# with a message naming the file.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init index_merge
D=$GB_SHARED/data
LI=$D/osm/liechtenstein-2026-03-29.osm.pbf
LAUF=$D/osm/lauf-2020-01-15.osm.pbf
PR=$D/osm/prague-small-2020-01.osm.pbf
SF=$D/openaddresses/us-ca-san-francisco-excerpt.csv
imp() { "$GB_BIN" import --log-level error -o "$@" 2>/dev/null; }
mrg() { "$GB_BIN" merge --log-level error -o "$@"; }

imp "$T/li.gbx" "$LI"
imp "$T/lauf.gbx" "$LAUF"
imp "$T/pr.gbx" "$PR"
imp "$T/sf.gbx" "$SF"

# ---- byte identity with one import of every input ----
imp "$T/joint.gbx" "$LI" "$LAUF" "$PR" "$SF"
mrg "$T/merged.gbx" "$T/li.gbx" "$T/lauf.gbx" "$T/pr.gbx" "$T/sf.gbx"
cmp "$T/joint.gbx" "$T/merged.gbx" || fail "merge of li, lauf, pr, sf differs from their joint import"
# another order, and merged indexes merged again (li+lauf, then + pr+sf)
imp "$T/joint2.gbx" "$SF" "$PR" "$LI"
mrg "$T/merged2.gbx" "$T/sf.gbx" "$T/pr.gbx" "$T/li.gbx"
cmp "$T/joint2.gbx" "$T/merged2.gbx" || fail "merge of sf, pr, li differs from their joint import"
mrg "$T/ab.gbx" "$T/li.gbx" "$T/lauf.gbx"
mrg "$T/cd.gbx" "$T/pr.gbx" "$T/sf.gbx"
mrg "$T/abcd.gbx" "$T/ab.gbx" "$T/cd.gbx"
cmp "$T/joint.gbx" "$T/abcd.gbx" || fail "a merge of merges differs from the joint import"
"$GB_BIN" check "$T/merged.gbx" >"$T/check.out" || fail "check of the merged index"
for f in liechtenstein-2026-03-29.osm.pbf lauf-2020-01-15.osm.pbf prague-small-2020-01.osm.pbf \
    us-ca-san-francisco-excerpt.csv; do
    grep -qF "$f" "$T/check.out" || fail "source $f not listed by check"
done
# a budget that every sorter passes (records sorted in runs in temporary files): the same bytes,
# and nothing left in the temporary directory
mkdir "$T/tmp1m"
"$GB_BIN" merge --log-level error --memory 1M --tmp "$T/tmp1m" -o "$T/small.gbx" \
    "$T/li.gbx" "$T/lauf.gbx" "$T/pr.gbx" "$T/sf.gbx"
cmp "$T/joint.gbx" "$T/small.gbx" || fail "merge with --memory 1M differs from the joint import"
expect_eq "$(ls -A "$T/tmp1m" | wc -l)" 0 "files left in --tmp"
# one input: the same index again
mrg "$T/one.gbx" "$T/lauf.gbx"
cmp "$T/lauf.gbx" "$T/one.gbx" || fail "merge of one index differs from it"

# ---- country-scale generated inputs (bench/gen_scale.py, 240,000 rows in four countries):
# addresses stored once for two, whose strings stay interned while their source ids are never
# written, and San Francisco ids that are numbers equal to some generated German postcodes
# ("691207"): an id travels with its address, a postcode is interned ----
if [ -z "${GB_ASAN:-}" ]; then # about 5 minutes under the sanitizers: their run skips it
python3 "$GB_SRC/bench/gen_scale.py" "$GB_SHARED" "$T/gen" --rows 240000 >/dev/null
for c in cz de li us; do imp "$T/gen-$c.gbx" "$T/gen/$c-scale.csv"; done
imp "$T/gen-joint.gbx" "$T/gen/de-scale.csv" "$T/gen/us-scale.csv" "$T/gen/cz-scale.csv" "$T/gen/li-scale.csv"
mrg "$T/gen-merged.gbx" "$T/gen-de.gbx" "$T/gen-us.gbx" "$T/gen-cz.gbx" "$T/gen-li.gbx"
cmp "$T/gen-joint.gbx" "$T/gen-merged.gbx" || fail "generated countries: merge differs from the joint import"
imp "$T/gen-joint2.gbx" "$T/gen/us-scale.csv" "$T/gen/de-scale.csv"
mrg "$T/gen-merged2.gbx" "$T/gen-us.gbx" "$T/gen-de.gbx"
cmp "$T/gen-joint2.gbx" "$T/gen-merged2.gbx" || fail "generated us, de: merge differs from the joint import"
rm -rf "$T/gen"
fi

# ---- refusals ----
cp "$T/lauf.gbx" "$T/v9.gbx"
python3 - "$T/v9.gbx" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
struct.pack_into('<I', b, 12, 9)  # format_version
open(p, 'wb').write(b)
PY
set +e
mrg "$T/x.gbx" "$T/li.gbx" "$T/v9.gbx" 2>"$T/e1"; rc1=$?
mrg "$T/x.gbx" "$T/li.gbx" "$T/ab.gbx" 2>"$T/e2"; rc2=$?
mrg "$T/x.gbx" "$T/li.gbx" "$T/nope.gbx" 2>"$T/e3"; rc3=$?
mrg "$T/li.gbx" "$T/li.gbx" "$T/lauf.gbx" 2>"$T/e4"; rc4=$?
"$GB_BIN" merge "$T/li.gbx" 2>"$T/e5"; rc5=$?
set -e
expect_eq "$rc1" 1 "another format version"
grep -qF "$T/v9.gbx: index format 9, this geobatch reads format 6" "$T/e1" || fail "version message: $(cat "$T/e1")"
expect_eq "$rc2" 1 "a source in two inputs"
grep -qF "source liechtenstein-2026-03-29.osm.pbf is already in an earlier index" "$T/e2" ||
    fail "duplicate source message: $(cat "$T/e2")"
expect_eq "$rc3" 1 "missing input"
grep -qF "$T/nope.gbx" "$T/e3" || fail "missing input message: $(cat "$T/e3")"
expect_eq "$rc4" 2 "output among the inputs"
expect_eq "$rc5" 2 "no -o"
[ ! -e "$T/x.gbx" ] || fail "a refused merge left an output"
ls "$T" | grep -q '\.tmp\.' && fail "a refused merge left a temporary file"
echo "ok"
