#!/usr/bin/env bash
# soak.sh BIN SHARED MINUTES - a mixed load against `geobatch serve` for MINUTES (make soak):
# concurrent jobs of 10 to 200,000 rows from the dev kit's query files, status polling,
# downloads, cancels, deletes, restarts with SIGTERM and kill -9; every completed job is then
# checked against `geobatch geocode`. Prints the figures; exit 1 when there was any error.
# The work directory (index, data dir, server log) is a mktemp dir, removed unless KEEP=1.
set -euo pipefail

BIN=${1:?usage: soak.sh GEOBATCH_BINARY SHARED_DIR MINUTES}
SHARED=${2:?usage: soak.sh GEOBATCH_BINARY SHARED_DIR MINUTES}
MINUTES=${3:?usage: soak.sh GEOBATCH_BINARY SHARED_DIR MINUTES}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/geobatch-soak.XXXXXX")
cleanup() {
    if [ -n "${KEEP:-}" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
rc=0
python3 "$HERE/bench/soak/soak.py" --bin "$(realpath "$BIN")" --shared "$(realpath "$SHARED")" \
    --minutes "$MINUTES" --work "$WORK" || rc=$?
if [ "$rc" -ne 0 ] && [ -s "$WORK/serve.log" ]; then
    echo "last server log lines:" >&2
    grep -v ' info ' "$WORK/serve.log" | tail -10 >&2 || true
fi
exit "$rc"
