#!/usr/bin/env bash
# test-large.sh BUILD WORK - `make test-large`: build an index whose string section passes
# 4 GiB from synthetic records (test/large/large_strings.c: 4.6 M addresses on 46,000 streets,
# each with a county of about 100 KB), with the default import budget (--memory 2G; MEMORY_MB overrides) and temporary
# files in WORK; open it (every checksum), read every string, geocode from it; then the same
# through the CLI (geobatch check, geobatch geocode). Prints the time, peak memory and disk of
# each step. The index (4.9 GB) is removed at the end unless KEEP=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: test-large.sh BUILD WORK}
work=${2:?usage: test-large.sh BUILD WORK}
mem=${MEMORY_MB:-2048}
mkdir -p "$work"
idx=$work/large.gbx
rm -f "$idx" "$work"/*.rus
rus=$here/bench/rusage.py
# disk in use on the work directory's filesystem, sampled every half second: the temporary
# files are anonymous (O_TMPFILE), so only the filesystem's count sees them
used() { df --output=used -B1 "$work" | tail -1 | tr -d ' '; }
base=$(used)
(peak=$base; while :; do u=$(used); [ "$u" -gt "$peak" ] && peak=$u && echo "$peak" >"$work/disk.peak"; sleep 0.5; done) &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
echo "$base" >"$work/disk.peak"
report() { # STEP RUSFILE
    read -r wall user sys rss <"$2"
    printf '%-8s wall %6.1f s  cpu %6.1f s  peak rss %5d MB\n' "$1" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
python3 "$rus" "$work/build.rus" "$build/large_strings" build "$idx" "$mem" "$work"
report build "$work/build.rus"
python3 "$rus" "$work/verify.rus" "$build/large_strings" verify "$idx"
report verify "$work/verify.rus"
python3 "$rus" "$work/check.rus" "$build/geobatch" check "$idx" | head -3
report check "$work/check.rus"
# the CLI from the index: the last street's number 77, its location id from its source id
IFS=$'\t' read -r query hash < <("$build/large_strings" query)
out=$("$build/geobatch" geocode --index "$idx" --query "$query")
echo "$out" | grep -q '"houseNumber": *"77"' && echo "$out" | grep -q "\"locationId\": *\"A[0-9a-f]\{8\}$hash\"" ||
    { echo "geocode from the CLI: want number 77 and a location id ending $hash: $out"; exit 1; }
echo "geocode  (CLI) $query: number 77, location id from its source id"
kill $sampler 2>/dev/null || true
peak=$(cat "$work/disk.peak")
size=$(stat -c %s "$idx")
printf 'index    %.2f GB; disk in use at the peak of the run: %.2f GB above the start\n' \
    "$(echo "$size / 1000000000" | bc -l)" "$(echo "($peak - $base) / 1000000000" | bc -l)"
[ "${KEEP:-0}" = 1 ] || rm -f "$idx"
echo "test-large: ok"
