#!/usr/bin/env bash
# cli_progress.sh - progress on a terminal for `geobatch import` and `geobatch geocode`: with
# --progress (or when stderr is a terminal: `script` gives them one) stderr has status lines,
# each "\r<line>\033[K", and one summary line at the end (geocode: rows per match level, the
# same counts as the result's matchLevel column); without a terminal, or with --quiet, stderr
# has neither; --progress with --quiet is a usage error.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init cli_progress

import_index "$T/li.gbx" "$LI_CSV"
{
    echo 'recId|searchText|country'
    li_rows 12553
    li_rows 12553
    echo '1|Nowhere Street 999, 1234 Atlantis|LIE'
    echo 'bad|line|with|too|many|fields'
} >"$T/in.txt"
COLS="--outcols=matchLevel --maxresults=1"

# summary_of FILE: FILE without its status lines ("\r...\033[K" runs, as the terminal ends up).
summary_of() { python3 -c 'import re,sys; sys.stdout.write(re.sub(r"\r[^\r\n]*?\x1b\[K", "", open(sys.argv[1], errors="replace", newline="").read()))' "$1"; }

# geocode --progress: the summary's counts are the result's
"$GB_BIN" geocode --index "$T/li.gbx" $COLS --progress "$T/in.txt" >"$T/out" 2>"$T/err"
levels=$(tail -n +2 "$T/out" | cut -d'|' -f4 | sort | uniq -c |
    awk '{n[$2]=$1} END {
        split("houseNumber street postalCode district city county state country NOMATCH", order, " ");
        s=""; for (i=1; i<=9; i++) if (order[i] in n) { v=n[order[i]];
            f=""; while (v>=1000) { f=sprintf(",%03d", v%1000) f; v=int(v/1000) } f=v f;
            s=s (s==""?"":",") " " order[i] " " f }
        print s }')
rows=$(($(wc -l <"$T/out") - 1))
expect_eq "$rows" 25107 "rows geocoded"
summary=$(summary_of "$T/err")
[[ "$summary" =~ ^geobatch\ geocode:\ 25,107\ rows\ in\ [0-9]+\.[0-9]\ s\ \([0-9,]+\ rows/s\):(.*)\;\ invalid\ lines\ 1$ ]] ||
    fail "geocode summary: [$summary]"
expect_eq "${BASH_REMATCH[1]}" "$levels" "geocode summary's counts per level"
grep -q $'\r' "$T/err" || echo "cli_progress: (the geocode was too fast for a status line)"

# no terminal, no flag: nothing on stderr; --quiet: nothing either
"$GB_BIN" geocode --index "$T/li.gbx" $COLS "$T/in.txt" >"$T/out2" 2>"$T/err2"
[ ! -s "$T/err2" ] || fail "geocode without a terminal wrote to stderr: $(cat -v "$T/err2")"
cmp -s "$T/out" "$T/out2" || fail "--progress changed the result"

# a terminal: on by default, off with --quiet
script -qec "'$GB_BIN' geocode --index '$T/li.gbx' $COLS '$T/in.txt' >'$T/out3'" "$T/tty" >/dev/null
grep -qE '^geobatch geocode: 25,107 rows in ' <(summary_of "$T/tty" | tr -d '\r') ||
    fail "no summary on a terminal: $(cat -v "$T/tty")"
cmp -s "$T/out" "$T/out3" || fail "the result on a terminal differs"
script -qec "'$GB_BIN' geocode --quiet --index '$T/li.gbx' $COLS '$T/in.txt' >'$T/out4'" "$T/tty2" >/dev/null
if grep -q 'geobatch geocode' "$T/tty2" || grep -q $'\033' "$T/tty2"; then
    fail "--quiet on a terminal: $(cat -v "$T/tty2")"
fi

# import --progress: one summary line after the log lines
ZIPS="$GB_SHARED/data/postcodes/us-zcta-2021-centroids.json"
"$GB_BIN" import --log-level warn --progress -o "$T/p.gbx" "$ZIPS" 2>"$T/ierr"
mib=$(stat -c %s "$T/p.gbx" | awk '{printf "%.1f", $1 / 1048576}')
summary=$(summary_of "$T/ierr")
[[ "$summary" =~ ^geobatch\ import:\ wrote\ $T/p.gbx\ \($mib\ MiB\)\ from\ 1\ file,\ 33,791\ records,\ in\ [0-9]+\.[0-9]\ s$ ]] ||
    fail "import summary: [$summary]"
"$GB_BIN" import --log-level warn -o "$T/q.gbx" "$ZIPS" 2>"$T/ierr2"
[ ! -s "$T/ierr2" ] || fail "import without a terminal wrote to stderr: $(cat -v "$T/ierr2")"
cmp -s "$T/p.gbx" "$T/q.gbx" || fail "--progress changed the index"

for c in import geocode; do
    set +e
    "$GB_BIN" $c --progress --quiet >/dev/null 2>"$T/uerr"
    rc=$?
    set -e
    expect_eq "$rc" 2 "$c --progress --quiet: exit status"
    expect_eq "$(cat "$T/uerr")" "geobatch $c: --progress and --quiet contradict each other" "$c --progress --quiet"
done
echo "cli_progress: ok"
