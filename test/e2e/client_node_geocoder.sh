#!/usr/bin/env bash
# client_node_geocoder.sh - a real HERE Batch 6.2 client library, node-geocoder 4.4.1 from the
# npm registry, unmodified, runs a batch job against our server: it posts with header=false,
# ' \n'-joined quoted rows and Accept: application/json, polls the JSON status, downloads the
# result with outputcompressed=false and parses /errors with its own regex. Skipped (exit 0,
# with a message) when node or npm is missing or the package cannot be fetched.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
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

e2e_init client_ng
import_index "$T/li.gbx" "$LI_PBF"
make_data "$T/data" 'apikey demo-key-123'
serve "$T/li.gbx" "$T/data" "$T/serve.log" --rate 0

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
