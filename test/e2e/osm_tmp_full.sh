#!/usr/bin/env bash
# osm_tmp_full.sh - `geobatch import --tmp DIR` of an OSM file when DIR fills up. DIR is a small
# tmpfs (root only: skipped otherwise); Liechtenstein is imported with --memory 1M and the ways'
# points joined (--osm-join always), so that the node file, the join's spools and the builder's
# runs all go to DIR. Too small, the import fails with exit 1 and a message that names DIR and
# what it could not write (the node file, or the join's references: the sizes go up a MiB at a
# time until the import fits), writes no index and leaves DIR empty; large enough, it gives the
# index of the default import.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
if [ "$(id -u)" != 0 ]; then
    echo "osm_tmp_full: SKIP (needs root to mount a tmpfs)"
    exit 0
fi
e2e_init osm_tmp_full
MNT="$T/mnt"
on_exit 'umount "$MNT" 2>/dev/null'
mkdir "$MNT"

"$GB_BIN" import --log-level error -o "$T/ref.gbx" "$LI_PBF" 2>/dev/null
# from 2 MiB up, a MiB at a time, until the import fits: every smaller size must fail cleanly
joined=0
ok=
for size in $(seq 2 24); do
    mount -t tmpfs -o size=${size}m,mode=700 tmpfs "$MNT"
    rc=0
    "$GB_BIN" import --log-level error --memory 1M --osm-join always --tmp "$MNT" \
        -o "$T/out.gbx" "$LI_PBF" 2>"$T/err" || rc=$?
    left=$(ls -A "$MNT")
    umount "$MNT"
    [ -z "$left" ] || fail "${size}m: left in --tmp: $left"
    if [ "$rc" = 0 ]; then
        cmp "$T/ref.gbx" "$T/out.gbx" || fail "${size}m: another index than the default import's"
        ok=$size
        break
    fi
    expect_eq "$rc" 1 "${size}m: exit code ($(cat "$T/err"))"
    [ ! -e "$T/out.gbx" ] || fail "${size}m: a failed import wrote an index"
    grep -Eq "cannot (write the node file|write the ways' node references|keep the ways' node references|keep the boundaries' node references) in $MNT: No space left on device" "$T/err" ||
        fail "${size}m: message: $(cat "$T/err")"
    if grep -q "node references" "$T/err"; then joined=$((joined + 1)); fi
done
[ -n "$ok" ] || fail "no size up to 24 MiB was enough"
[ "$joined" -ge 1 ] || fail "no size made the join's spools fail"
echo "osm_tmp_full: ok (fits in ${ok} MiB; ${joined} sizes failed in the join)"
