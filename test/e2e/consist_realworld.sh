#!/usr/bin/env bash
# Real-world writing of postcodes, regions and towns (issue 11, capabilities 5-7): country
# prefixes before postcodes, US ZIP+4, state and Land qualifiers, an index without postcodes,
# and streets asked in a town that has none of that name; generated from ../shared/data and
# scored by the accuracy kit's score.py with the thresholds of
# test/eval/realworld/consist_realworld.py (every style >= 0.95 within 25 m, false precision
# <= 0.2 %).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
e2e_init consist_realworld
python3 "$GB_SRC/test/eval/realworld/consist_realworld.py" "$GB_BIN" "$T" || {
    grep -P '\t0\t[01]$' "$T/details.tsv" | head -20 >&2 || true
    fail "real-world styles below their thresholds"
}
