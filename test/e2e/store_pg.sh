#!/usr/bin/env bash
# store_pg.sh - the PostgreSQL job store's unit test (test/test_store_pg.c) against a real
# PostgreSQL started here; plus `geobatch store migrate`: creates the schema, is harmless run
# again, and serve/work refuse a store without it.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/pg.sh"
e2e_init store_pg
pg_start
"$GB_BIN" serve --store "$PG_URL" --index /nonexistent --data "$T/d" 2>"$T/err" && fail "serve on a store without schema"
"$GB_BIN" work --store "$PG_URL" --index /nonexistent 2>>"$T/err" && fail "work on a store without schema"
import_index "$T/li.gbx" "$LI_CSV"
mkdir -p -m 700 "$T/d"
"$GB_BIN" work --store "$PG_URL" --index "$T/li.gbx" 2>"$T/err" && fail "work on a store without schema"
grep -q "the store has no geobatch schema: run 'geobatch store migrate --store URL'" "$T/err" || { cat "$T/err"; fail "message"; }
expect_eq "$("$GB_BIN" store migrate --store "$PG_URL" 2>/dev/null)" "store postgresql: schema up to date" "migrate"
expect_eq "$("$GB_BIN" store migrate --store "$PG_URL" 2>&1)" "store postgresql: schema up to date" "migrate again"
expect_eq "$(psql_q "SELECT value FROM gb_meta WHERE key = 'schema'")" 1 "schema version"
psql_q "UPDATE gb_meta SET value = '9' WHERE key = 'schema'"
"$GB_BIN" store migrate --store "$PG_URL" 2>"$T/err" && fail "migrate of a newer schema"
grep -q "newer than this geobatch's 1" "$T/err" || fail "message of a newer schema"
psql_q "UPDATE gb_meta SET value = '1' WHERE key = 'schema'"
GB_PG_URL="$PG_URL" "$(dirname "$GB_BIN")/test_store_pg" || fail "test_store_pg"
echo "PASS store_pg"
