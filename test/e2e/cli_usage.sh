#!/usr/bin/env bash
# cli_usage.sh - the command line contract of `geobatch`: --help of the binary and of every
# subcommand exits 0 and prints a usage line on stdout; usage errors exit 2 with exactly one
# line on stderr and nothing on stdout; `geobatch version` prints version, commit and formats.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init cli_usage

# --help everywhere: exit 0, usage on stdout, nothing on stderr
for args in "--help" "-h" "help" "import --help" "geocode --help" "serve --help" \
    "check --help" "version --help"; do
    # shellcheck disable=SC2086
    set +e
    "$GB_BIN" $args >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || fail "geobatch $args: exit $rc"
    [ -s "$T/out" ] || fail "geobatch $args: nothing on stdout"
    [ ! -s "$T/err" ] || fail "geobatch $args: stderr not empty: $(cat "$T/err")"
    grep -qi 'usage' "$T/out" || fail "geobatch $args: no usage line"
done
# the top-level help lists every command
"$GB_BIN" --help >"$T/out"
for c in import geocode serve check version; do
    grep -qE "^  $c " "$T/out" || fail "--help does not list $c"
done
# each subcommand's help names its own usage
"$GB_BIN" import --help >"$T/h1"
grep -q 'geobatch import -o INDEX FILE' "$T/h1" || fail "import usage"
"$GB_BIN" geocode --help >"$T/h2"
grep -q 'geobatch geocode --index INDEX' "$T/h2" || fail "geocode usage"
grep -q -- '--outcols' "$T/h2" || fail "geocode --help lacks the HERE params"
"$GB_BIN" check --help >"$T/h3"
grep -q 'geobatch check \[--verbose\] INDEX' "$T/h3" || fail "check usage"

# usage errors: exit 2, one line on stderr naming the program, stdout empty
usage_error() { # description, args...
    local what=$1
    shift
    set +e
    "$GB_BIN" "$@" >"$T/out" 2>"$T/err" </dev/null
    local rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, want 2 (stderr: $(cat "$T/err"))"
    [ ! -s "$T/out" ] || fail "$what: stdout not empty"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: stderr is not one line: $(cat "$T/err")"
    grep -q '^geobatch' "$T/err" || fail "$what: message does not start with geobatch"
}
usage_error "no command"
usage_error "unknown command" frobnicate
usage_error "import without -o" import "$GB_SHARED/data/tiger/tiger-01001-autauga-al.csv"
usage_error "import without inputs" import -o "$T/x.gbx"
usage_error "import unknown format" import --format nosuch -o "$T/x.gbx" \
    "$GB_SHARED/data/tiger/tiger-01001-autauga-al.csv"
usage_error "import unknown option" import --frob -o "$T/x.gbx" x
usage_error "geocode unknown --country" geocode --index x --query "Städtle 1" --country XXX
expect_eq "$(cat "$T/err")" \
    "geobatch geocode: --country 'XXX': not a country (an ISO 3166 code such as LI or LIE, or a name)" \
    "geocode --country XXX"
usage_error "geocode --country without --query" geocode --index x --country LI --outcols=displayLatitude
usage_error "check without index" check
usage_error "check two indexes" check a b
usage_error "check unknown option" check --nope a
usage_error "geocode without index" geocode --outcols=city
usage_error "geocode option without value" geocode --index
usage_error "geocode unknown option" geocode --index x --frobnicate=1 --outcols=city
usage_error "geocode threads 0" geocode --index x --outcols=city --threads=0
usage_error "geocode no outcols" geocode --index x
usage_error "geocode bad outcol" geocode --index x --outcols=city,lattitude
usage_error "geocode bad delimiter" geocode --index x --outcols=city --indelim=#
[ ! -e "$T/x.gbx" ] || fail "a usage error created an index"
# serve --config: a bad key names the file and line; a missing file is named
printf '# geobatch.conf\nindex /x.gbx\nlisen 127.0.0.1:1\n' >"$T/bad.conf"
usage_error "serve bad config key" serve --config "$T/bad.conf"
expect_eq "$(cat "$T/err")" "geobatch serve: $T/bad.conf:3: unknown key 'lisen'" "serve --config bad key"
printf 'index /x.gbx\n' >"$T/part.conf"
usage_error "serve config without data" serve --config "$T/part.conf"
usage_error "serve missing config" serve --config "$T/none.conf"
expect_eq "$(cat "$T/err")" "geobatch serve: $T/none.conf: No such file or directory" "serve --config missing"

# version: program version, git commit, index format, normaliser
"$GB_BIN" version >"$T/v"
grep -qE '^geobatch [0-9]+\.[0-9]+\.[0-9]+$' "$T/v" || fail "version line: $(cat "$T/v")"
grep -qE '^commit ([0-9a-f]{7,40}|unknown)$' "$T/v" || fail "commit line: $(cat "$T/v")"
grep -qE '^index format [0-9]+$' "$T/v" || fail "index format line: $(cat "$T/v")"
# the index format printed is the one the index header carries
"$GB_BIN" import -o "$T/t.gbx" "$GB_SHARED/data/openaddresses/de-lauf-2020.csv" 2>/dev/null
fmt=$(sed -n 's/^index format //p' "$T/v")
"$GB_BIN" check "$T/t.gbx" >"$T/c"
grep -q "^format $fmt normaliser" "$T/c" || fail "check and version disagree"
"$GB_BIN" --version >"$T/v2"
cmp -s "$T/v2" "$T/v" || fail "--version differs from version"
echo "cli_usage: ok"
