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
expect_eq "$(psql_q "SELECT value FROM gb_meta WHERE key = 'schema'")" 2 "schema version"
expect_eq "$(psql_q "SELECT attcompression FROM pg_attribute WHERE attrelid = 'gb_files'::regclass AND attname = 'data'")" l "gb_files.data compressed with lz4"
psql_q "UPDATE gb_meta SET value = '9' WHERE key = 'schema'"
"$GB_BIN" store migrate --store "$PG_URL" 2>"$T/err" && fail "migrate of a newer schema"
grep -q "newer than this geobatch's 2" "$T/err" || fail "message of a newer schema"
psql_q "UPDATE gb_meta SET value = '2' WHERE key = 'schema'"
GB_PG_URL="$PG_URL" "$(dirname "$GB_BIN")/test_store_pg" || fail "test_store_pg"
# a store of version 1 with two applications' files migrates to 2: the running totals start at
# the bytes already stored
psql_q "TRUNCATE gb_jobs, gb_chunks, gb_files, gb_apps CASCADE" >/dev/null
psql_q "INSERT INTO gb_jobs (id, app, state, created) VALUES ('j1', 'appA', 3, 1), ('j2', 'appA', 0, 1), ('j3', 'appB', 0, 1);
        INSERT INTO gb_files VALUES ('j1', 'result.zip', 0, '\\x0102'), ('j1', 'result.zip', 1, '\\x03'),
        ('j2', 'header.csv', 0, 'abcd'), ('j3', 'header.csv', 0, 'xy')" >/dev/null
psql_q "DROP TRIGGER gb_files_bytes ON gb_files; DROP TRIGGER gb_jobs_bytes ON gb_jobs;
        DROP FUNCTION gb_files_bytes(); DROP FUNCTION gb_jobs_bytes(); DROP TABLE gb_apps, gb_rate;
        ALTER TABLE gb_jobs DROP COLUMN bytes; UPDATE gb_meta SET value = '1' WHERE key = 'schema'"
"$GB_BIN" work --store "$PG_URL" --index "$T/li.gbx" 2>"$T/err" && fail "work on a version 1 store"
grep -q "the store's schema is version 1, this geobatch reads version 2: run 'geobatch store migrate --store URL'" "$T/err" || { cat "$T/err"; fail "message of an older schema"; }
"$GB_BIN" store migrate --store "$PG_URL" >/dev/null 2>&1 || fail "migrate from version 1"
expect_eq "$(psql_q "SELECT value FROM gb_meta WHERE key = 'schema'")" 2 "schema version after the migration"
expect_eq "$(psql_q "SELECT app || ' ' || bytes FROM gb_apps ORDER BY app" | tr '\n' ' ')" "appA 7 appB 2 " "bytes after the migration"
psql_q "DELETE FROM gb_jobs WHERE id = 'j1'"
expect_eq "$(psql_q "SELECT app || ' ' || bytes FROM gb_apps ORDER BY app" | tr '\n' ' ')" "appA 4 appB 2 " "bytes after a purge"
echo "PASS store_pg"
