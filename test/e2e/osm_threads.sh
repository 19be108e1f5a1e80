#!/usr/bin/env bash
# osm_threads.sh - `geobatch import --threads N` builds the same index byte for byte whatever N:
# every real extract in data/osm imported with 1, 2 and 3 decoding threads, the .gbx files
# compared with cmp; the three combined dev-kit extracts in one index the same way. (That the
# records equal those of readosm, the reader before, is test_osm_pbf's
# test_real_extracts_same_as_readosm.) Also: --threads is checked (0 and 65 are refused), a
# gzip-compressed PBF imports like the plain one, and a PBF compressed with zstd is refused by
# name.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init osm_threads
D=$GB_SHARED/data/osm

for f in "$D"/*.pbf; do
    n=$(basename "$f")
    case $n in *universitat* | *monaco* | *liechtenstein-2026*) ;; *) [ -z "${GB_ASAN:-}" ] || continue ;; esac
    for t in 1 2 3; do
        "$GB_BIN" import --log-level warn --threads $t -o "$T/$n.$t.gbx" "$f" 2>"$T/err" ||
            fail "$n, $t threads: $(cat "$T/err")"
    done
    cmp "$T/$n.1.gbx" "$T/$n.2.gbx" || fail "$n: 1 and 2 threads differ"
    cmp "$T/$n.1.gbx" "$T/$n.3.gbx" || fail "$n: 1 and 3 threads differ"
    rm -f "$T/$n".*.gbx
done

dev=("$D/liechtenstein-2026-03-29.osm.pbf" "$D/lauf-2020-01-15.osm.pbf" "$D/prague-small-2020-01.osm.pbf")
"$GB_BIN" import --log-level warn --threads 1 -o "$T/dev1.gbx" "${dev[@]}" 2>/dev/null
"$GB_BIN" import --log-level warn --threads 2 -o "$T/dev2.gbx" "${dev[@]}" 2>/dev/null
cmp "$T/dev1.gbx" "$T/dev2.gbx" || fail "dev kit index: 1 and 2 threads differ"

for bad in 0 65 x; do
    if "$GB_BIN" import --threads $bad -o "$T/bad.gbx" "${dev[0]}" 2>"$T/err"; then
        fail "--threads $bad accepted"
    fi
    grep -q threads "$T/err" || fail "--threads $bad: message does not name the option: $(cat "$T/err")"
done

# gzip around a PBF: decompressed to a temp file first, same index
f=$D/valhalla-universitatstunnel.osm.pbf
gzip -c "$f" >"$T/u.osm.pbf.gz"
"$GB_BIN" import --log-level warn -o "$T/u1.gbx" "$f" 2>/dev/null
"$GB_BIN" import --log-level warn --format osm-pbf -o "$T/u2.gbx" "$T/u.osm.pbf.gz" 2>/dev/null
"$GB_BIN" check "$T/u1.gbx" | grep '^addresses' >"$T/c1"
"$GB_BIN" check "$T/u2.gbx" | grep '^addresses' >"$T/c2"
cmp "$T/c1" "$T/c2" || fail "gzip-compressed PBF imports differently"

# The node file and the pending objects go to --tmp, else to the index's directory, as the
# builder's files do; not to $TMPDIR (often a small tmpfs: a country's node file is gigabytes).
# With $TMPDIR unusable both import the same index and leave nothing behind.
mkdir "$T/tmpd" "$T/outd"
TMPDIR=$T/no-such-dir "$GB_BIN" import --log-level warn --tmp "$T/tmpd" -o "$T/u3.gbx" "$f" \
    2>"$T/err" || fail "--tmp not used: $(cat "$T/err")"
cmp "$T/u1.gbx" "$T/u3.gbx" || fail "--tmp: another index"
TMPDIR=$T/no-such-dir "$GB_BIN" import --log-level warn -o "$T/outd/u4.gbx" "$f" 2>"$T/err" ||
    fail "the index's directory not used: $(cat "$T/err")"
cmp "$T/u1.gbx" "$T/outd/u4.gbx" || fail "temp files beside the index: another index"
[ -z "$(ls -A "$T/tmpd")" ] || fail "left in --tmp: $(ls -A "$T/tmpd")"
[ "$(ls -A "$T/outd")" = u4.gbx ] || fail "left beside the index: $(ls -A "$T/outd")"

# a zstd blob: header block of the real file, then one blob whose data is zstd_data (field 7)
python3 - "$f" "$T/zstd.osm.pbf" <<'EOF'
import struct, sys
src = open(sys.argv[1], 'rb').read()
hl = struct.unpack('>I', src[:4])[0]
hdr = src[4:4 + hl]
i, size = 0, None
while i < len(hdr):  # BlobHeader: find datasize (field 3, varint)
    key = hdr[i]; i += 1
    if key & 7 == 2:
        n = hdr[i]; i += 1 + n
    else:
        v = s = 0
        while True:
            c = hdr[i]; i += 1; v |= (c & 0x7f) << s; s += 7
            if c < 0x80: break
        if key >> 3 == 3: size = v
head = src[:4 + hl + size]
blob = bytes([0x10, 10, 0x3a, 10]) + b'0123456789'  # raw_size 10, zstd_data (7)
bh = bytes([0x0a, 7]) + b'OSMData' + bytes([0x18, len(blob)])
open(sys.argv[2], 'wb').write(head + struct.pack('>I', len(bh)) + bh + blob)
EOF
if "$GB_BIN" import --log-level warn -o "$T/z.gbx" "$T/zstd.osm.pbf" 2>"$T/err"; then
    fail "zstd PBF accepted"
fi
grep -q "compressed with zstd" "$T/err" || fail "zstd PBF: $(cat "$T/err")"
[ ! -e "$T/z.gbx" ] || fail "an index was written for the zstd PBF"
echo "osm_threads: ok"
