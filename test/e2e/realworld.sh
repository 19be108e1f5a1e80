#!/usr/bin/env bash
# Real-world style sets (issue 11; test/eval/realworld/): company and recipient lines, glued
# numbers, abbreviated and other-language street types, dropped articles, inline units, all
# capitals, numbers in street names, slash numbers, short-word typos, US directionals, made from
# $GB_SHARED/data by rules. Every variant: within 25 m >= 0.95, false precision <= 0.2 %.
set -euo pipefail
work="$GB_TMP/realworld"
rm -rf "$work"
mkdir -p "$work"
test/eval/realworld/run.sh "$GB_BIN" "$GB_SHARED" "$work" | tail -20
