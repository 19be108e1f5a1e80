#!/usr/bin/env bash
# The accuracy acceptance test: ../shared/eval/run-dev.sh on the four dev areas must meet every
# threshold in thresholds.txt (it exits 1 when one fails). Same as `make eval`.
set -euo pipefail
work="$GB_TMP/eval"
rm -rf "$work"
mkdir -p "$work"
"$GB_SHARED/eval/run-dev.sh" "$GB_BIN" "$work" | tail -5
