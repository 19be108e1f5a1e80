#!/usr/bin/env bash
# client_node_geocoder.sh - a real HERE Batch 6.2 client library, node-geocoder 4.4.1 from the
# npm registry, unmodified, runs a batch job against our server: it posts with header=false,
# ' \n'-joined quoted rows and Accept: application/json, polls the JSON status, downloads the
# result with outputcompressed=false and parses /errors with its own regex. Skipped (exit 0,
# with a message) when node or npm is missing or the package cannot be fetched.
set -euo pipefail

: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}"
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: no node/npm"; exit 0; }
NPM_DIR="$GB_TMP/npm-node-geocoder"
if [ ! -d "$NPM_DIR/node_modules/node-geocoder" ]; then
    mkdir -p "$NPM_DIR"
    if ! (cd "$NPM_DIR" && timeout 120 npm install --silent --no-audit --no-fund \
        node-geocoder@4.4.1 >/dev/null 2>&1); then
        echo "SKIP: npm could not install node-geocoder@4.4.1"
        exit 0
    fi
fi

T=$(mktemp -d "$GB_TMP/client_ng.XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$GB_BIN" import -o "$T/li.gbx" "$GB_SHARED/data/osm/liechtenstein-2026-03-29.osm.pbf" 2>/dev/null
mkdir -m 700 "$T/data"
printf 'apikey demo-key-123\n' >"$T/data/credentials"
chmod 600 "$T/data/credentials"
"$GB_BIN" serve --index "$T/li.gbx" --data "$T/data" --listen "127.0.0.1:$PORT" --rate 0 \
    2>"$T/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.05; done

printf '%s\n' "Grasgarten 15, 9492 Eschen" "Iradug 52, 9496 Balzers" "xqzzyv qwpf" \
    "Vorarlberger-Str. 110, 9486 Schaanwald" >"$T/in.txt"
node "$here/tools/node_geocoder_client.js" "$NPM_DIR/node_modules" "http://127.0.0.1:$PORT" \
    demo-key-123 <"$T/in.txt" >"$T/out.txt" 2>"$T/client.err" ||
    fail "client: $(cat "$T/client.err")"
cat "$T/out.txt"
[ "$(wc -l <"$T/out.txt")" -eq 4 ] || fail "expected 4 results"
# Each answer within 50 m of the address in the data (OpenAddresses rows of the same objects).
python3 - "$T/out.txt" <<'PY' || fail "positions"
import math, sys
want = [(47.2137109, 9.5190957, "Grasgarten", "15", "9492", "LIE"),
        (47.0596008, 9.4983513, "Iradug", "52", "9496", "LIE"),
        None,
        (None, None, "Vorarlberger-Strasse", "110", "9486", "LIE")]
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1], encoding="utf-8")]
for w, r in zip(want, rows):
    err, lat, lon, street, num, city, zipc, cc = r[:8]
    if w is None:
        assert lat in ("0", "NaN", "") and street == "", r   # NOMATCH: no position
        continue
    assert err == "" and street == w[2] and num == w[3] and zipc == w[4] and cc == w[5], r
    if w[0] is not None:
        d = math.hypot((float(lat) - w[0]) * 111320,
                       (float(lon) - w[1]) * 111320 * math.cos(math.radians(w[0])))
        assert d < 50, (r, d)
PY
echo "ok: node-geocoder 4.4.1 ran a batch job against geobatch"
