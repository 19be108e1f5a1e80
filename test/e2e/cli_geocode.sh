#!/usr/bin/env bash
# cli_geocode.sh - `geobatch geocode` end to end on the Liechtenstein OpenAddresses index: the
# exact bytes of a small result, output in input order and byte-identical with 1 and 4 threads
# and with rows interleaved (--lanes) on a few thousand rows, invalid lines in --errors as
# "Line Number:N <line>", stdin input, CRLF input, --outputcombined=false with --no-matches,
# and --query JSON.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init cli_geocode
OA=$LI_CSV

"$GB_BIN" import --log-level error -o "$T/li.gbx" "$OA" 2>/dev/null
G=("$GB_BIN" geocode --index "$T/li.gbx")

# ---- the exact bytes of a small result ----
# OA: "9.5284904,47.1236503,13,Floraweg,,Vaduz,,,9490"; "9.5205904,47.1322808,16,Aubündt,,Vaduz,,,9490"
printf 'recId|searchText\n1|Floraweg 13, 9490 Vaduz\n2|xyzzy qwerty plugh\n3|\n4|aubundt 16 vaduz\n' >"$T/small.txt"
"${G[@]}" --indelim='|' --outdelim='|' \
    --outcols=displayLatitude,displayLongitude,houseNumber,street,postalCode,matchLevel,matchType \
    --outputcombined=true --header=true "$T/small.txt" >"$T/small.out"
cat >"$T/small.want" <<'WANT'
recId|SeqNumber|seqLength|displayLatitude|displayLongitude|houseNumber|street|postalCode|matchLevel|matchType
1|1|1|47.1236503|9.5284904|13|Floraweg|9490|houseNumber|pointAddress
2|0|0||||||NOMATCH|
3|0|0||||||FAILED|
4|1|1|47.1322808|9.5205904|16|Aubündt|9490|houseNumber|pointAddress
WANT
cmp -s "$T/small.out" "$T/small.want" || { diff "$T/small.want" "$T/small.out" >&2; fail "small result"; }

# the same through stdin, and with CRLF line ends
"${G[@]}" --outcols=displayLatitude,displayLongitude,houseNumber,street,postalCode,matchLevel,matchType \
    <"$T/small.txt" >"$T/stdin.out"
cmp -s "$T/stdin.out" "$T/small.want" || fail "stdin input differs from file input"
sed 's/$/\r/' "$T/small.txt" >"$T/crlf.txt"
"${G[@]}" --outcols=displayLatitude,displayLongitude,houseNumber,street,postalCode,matchLevel,matchType \
    "$T/crlf.txt" >"$T/crlf.out"
cmp -s "$T/crlf.out" "$T/small.want" || fail "CRLF input differs"

# header=false, outdelim=';' (indelim stays '|')
"${G[@]}" --outdelim=';' --header=false --outcols=houseNumber,street "$T/small.txt" >"$T/semi.out"
printf '1;1;1;13;Floraweg\n2;0;0;;\n3;0;0;;\n4;1;1;16;Aubündt\n' | cmp -s - "$T/semi.out" ||
    fail "outdelim/header=false: $(cat "$T/semi.out")"

# outputcombined=false: unmatched rows to --no-matches (with the header), not to stdout
"${G[@]}" --outcols=street --outputcombined=false --no-matches="$T/nm.out" "$T/small.txt" >"$T/m.out"
printf 'recId|SeqNumber|seqLength|street\n1|1|1|Floraweg\n4|1|1|Aubündt\n' | cmp -s - "$T/m.out" ||
    fail "outputcombined=false stdout: $(cat "$T/m.out")"
printf 'recId|SeqNumber|seqLength|street\n2|0|0|\n3|0|0|\n' | cmp -s - "$T/nm.out" ||
    fail "outputcombined=false no-matches: $(cat "$T/nm.out")"

# ---- invalid lines go to --errors with their line number (the header is line 1) ----
printf 'recId|searchText\n1|Floraweg 13 Vaduz\n2|a|b\n\n3|"open quote\n4|Floraweg 11 Vaduz\n' >"$T/bad.txt"
"${G[@]}" --outcols=houseNumber --errors="$T/errors.out" "$T/bad.txt" >"$T/bad.out"
printf 'recId|SeqNumber|seqLength|houseNumber\n1|1|1|13\n4|1|1|11\n' | cmp -s - "$T/bad.out" ||
    fail "rows around invalid lines: $(cat "$T/bad.out")"
printf 'Line Number:3 2|a|b\nLine Number:5 3|"open quote\n' | cmp -s - "$T/errors.out" ||
    fail "errors file: $(cat "$T/errors.out")"

# ---- a few thousand rows: input order, identical with 1 and 4 threads ----
# every 4th OA address as free text, with a NOMATCH, a FAILED and an invalid line mixed in
python3 - "$OA" "$T/big.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("recId|searchText\n")
    n = 0
    for i, r in enumerate(rows[::4]):
        n += 1
        f.write(f"{n}|{r['NUMBER']} {r['STREET']}, {r['POSTCODE']} {r['CITY']}\n")
        if i % 500 == 7:
            n += 1
            f.write(f"{n}|qqqq zzzz xxxx\n")
            n += 1
            f.write(f"{n}|\n")
            f.write("broken|line|here\n")
PY
rows=$(($(wc -l <"$T/big.txt") - 1))
[ "$rows" -gt 3000 ] || fail "only $rows rows"
"${G[@]}" --outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance --maxresults=3 \
    --threads 1 --errors="$T/e1" "$T/big.txt" >"$T/t1.out"
"${G[@]}" --outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance --maxresults=3 \
    --threads 4 --errors="$T/e4" "$T/big.txt" >"$T/t4.out"
cmp -s "$T/t1.out" "$T/t4.out" || fail "--threads 1 and --threads 4 differ"
cmp -s "$T/e1" "$T/e4" || fail "errors differ between thread counts"
# rows interleaved (--lanes, base/co.h; the default for large indexes), and with --stats
counts() { grep -o '^rows=[0-9]* matched=[0-9]* unmatched=[0-9]* invalid=[0-9]*' "$1"; }
"${G[@]}" --outcols=displayLatitude --threads 1 --lanes 1 --stats "$T/big.txt" >/dev/null \
    2>"$T/t1.stats"
[ -n "$(counts "$T/t1.stats")" ] || fail "stats: $(cat "$T/t1.stats")"
for lanes in "1 8" "2 8" "1 16" "3 3"; do
    set -- $lanes
    "${G[@]}" --outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance \
        --maxresults=3 --threads "$1" --lanes "$2" --stats --errors="$T/el" "$T/big.txt" \
        >"$T/tl.out" 2>"$T/tl.stats"
    cmp -s "$T/t1.out" "$T/tl.out" || fail "--threads $1 --lanes $2 differs from one row at a time"
    cmp -s "$T/e1" "$T/el" || fail "errors differ with --threads $1 --lanes $2"
    [ "$(counts "$T/tl.stats")" = "$(counts "$T/t1.stats")" ] ||
        fail "--lanes $2 stats: $(cat "$T/tl.stats")"
done
# recIds appear in input order, each once as a block, SeqNumber 1..n within a block
valid_ids=$(grep -v '|.*|' "$T/big.txt" | cut -d'|' -f1)
tail -n +2 "$T/t1.out" | awk -F'|' '
    { if ($1 != prev) { print $1; prev = $1; want = ($2 == "0") ? 0 : 1 }
      if ($2 != want) { print "bad seq " NR > "/dev/stderr"; exit 1 }
      if (want > 0) want++ }' >"$T/order"
grep -v '^recId|' "$T/big.txt" | grep -v '^broken' | cut -d'|' -f1 | cmp -s - "$T/order" ||
    fail "output is not in input order"
[ -n "$valid_ids" ] || true
nerr=$(wc -l <"$T/e1")
[ "$nerr" -eq "$(grep -c '^broken' "$T/big.txt")" ] || fail "errors: $nerr lines"
grep -qE '^Line Number:[0-9]+ broken\|line\|here$' "$T/e1" || fail "errors line format"
# most of them are found as the very address they are
pa=$(grep -c '|houseNumber|pointAddress|' "$T/t1.out")
[ "$pa" -gt $((rows * 8 / 10)) ] || fail "only $pa of $rows rows matched as pointAddress"
grep -q '|0|0|||NOMATCH||$' "$T/t1.out" || fail "no NOMATCH row"
grep -q '|0|0|||FAILED||$' "$T/t1.out" || fail "no FAILED row"

# ---- --query prints JSON candidates ----
"${G[@]}" --query "Floraweg 13, 9490 Vaduz" >"$T/q.json"
python3 - "$T/q.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and len(d) == 1, d
c = d[0]
assert c["seqNumber"] == 1 and c["matchLevel"] == "houseNumber", c
assert c["matchType"] == "pointAddress" and c["houseNumber"] == "13", c
assert c["street"] == "Floraweg" and c["city"] == "Vaduz" and c["postalCode"] == "9490", c
assert abs(c["latitude"] - 47.1236503) < 1e-7 and abs(c["longitude"] - 9.5284904) < 1e-7, c
assert c["country"] == "LIE", c
PY
"${G[@]}" --query "xyzzy qwerty plugh" | python3 -c 'import json,sys; assert json.load(sys.stdin) == []'

# ---- failures: missing input file, unreadable index, header with unknown column ----
set +e
"${G[@]}" --outcols=city "$T/nope.txt" >/dev/null 2>"$T/err"; rc1=$?
"$GB_BIN" geocode --index "$T/nope.gbx" --outcols=city "$T/small.txt" >/dev/null 2>"$T/err2"; rc2=$?
printf 'recId|citty\n1|Vaduz\n' | "${G[@]}" --outcols=city >"$T/out3" 2>"$T/err3"; rc3=$?
set -e
[ "$rc1" -eq 1 ] && grep -qF "$T/nope.txt" "$T/err" || fail "missing input: $rc1 $(cat "$T/err")"
[ "$rc2" -eq 1 ] && grep -qF "$T/nope.gbx" "$T/err2" || fail "missing index: $rc2"
[ "$rc3" -eq 1 ] && grep -q 'citty' "$T/err3" || fail "unknown column: $rc3 $(cat "$T/err3")"
printf 'recId|searchText|citty\n1|Floraweg 13|Schaan\n' |
    "${G[@]}" --outcols=city --allowUnknownInputColumns=true >"$T/out4"
printf 'recId|SeqNumber|seqLength|city\n1|1|1|Vaduz\n' | cmp -s - "$T/out4" ||
    fail "allowUnknownInputColumns: $(cat "$T/out4")"
# ---- a flipped byte inside a section: the references still hold, so geocode answers while it
# verifies the checksums beside the rows, then names the section and exits 1 ----
idx=$T/li.gbx
cp "$idx" "$T/flipped.gbx"
python3 - "$T/flipped.gbx" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
off, length = struct.unpack_from('<QQ', b, 88)  # section 0, STRINGS
b[off + length // 2] ^= 0x20  # a letter's case: still a NUL-terminated string
open(p, 'wb').write(b)
PY
set +e
"$GB_BIN" geocode --index "$T/flipped.gbx" --outcols=city "$T/small.txt" >/dev/null 2>"$T/err5"; rc5=$?
"$GB_BIN" check "$T/flipped.gbx" >/dev/null 2>"$T/err6"; rc6=$?
set -e
[ "$rc5" -eq 1 ] && grep -qF "flipped.gbx: section 'strings' checksum mismatch" "$T/err5" ||
    fail "corrupt section in geocode: $rc5 $(cat "$T/err5")"
[ "$rc6" -eq 1 ] && grep -qF "section 'strings' checksum mismatch" "$T/err6" ||
    fail "corrupt section in check: $rc6 $(cat "$T/err6")"
echo "cli_geocode: ok"
