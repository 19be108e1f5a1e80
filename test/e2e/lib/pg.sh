# shellcheck shell=bash disable=SC2034 # sets variables for the scripts that source it
# test/e2e/lib/pg.sh - a real PostgreSQL for a test (sourced after common.sh): Debian's
# postgresql package, a cluster made by initdb in a temporary directory of its own (outside the
# build tree, so that an unprivileged user can reach it), on a free port, owned by the user
# running the test or, when that is root, by nobody (PostgreSQL refuses to run as root). It is
# stopped and removed on exit.
#   pg_start: sets PG_DIR, PG_PORT, PG_URL (postgresql://geobatch@127.0.0.1:PORT/postgres);
#     PG_LISTEN (default 127.0.0.1) and PG_HBA_NET (a CIDR allowed besides 127.0.0.1, for
#     clients in other network namespaces) when set before
#   pg_restart: pg_ctl restart -m fast (every connection is cut)
#   pg_stop
#   psql_q SQL: one query, unaligned tuples only

PG_DIR=
PG_BIN=
PG_RUN=()

pg_start() {
    "$GB_SRC/scripts/deps.sh" postgresql >&2
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$PG_BIN/initdb" ] || fail "no PostgreSQL binaries under /usr/lib/postgresql"
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/geobatch-pg.XXXXXX")
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown nobody "$PG_DIR"
        PG_RUN=(runuser -u nobody --)
    fi
    on_exit 'pg_cleanup'
    PG_PORT=$(free_port)
    "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U geobatch -A trust -E UTF8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; fail "initdb"; }
    # fsync on: the restart tests are about what a committed transaction survives
    cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '${PG_LISTEN:-127.0.0.1}'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
CONF
    [ -z "${PG_HBA_NET:-}" ] || echo "host all all $PG_HBA_NET trust" >>"$PG_DIR/data/pg_hba.conf"
    pg_ctl_run start
    PG_URL="postgresql://geobatch@127.0.0.1:$PG_PORT/postgres"
}

pg_ctl_run() { # start | restart | stop
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -m fast "$1" \
        >/dev/null || { tail -20 "$PG_DIR/server.log" >&2; fail "pg_ctl $1"; }
}

pg_restart() { pg_ctl_run restart; }

pg_cleanup() {
    [ -n "$PG_DIR" ] || return 0
    [ -f "$PG_DIR/data/postmaster.pid" ] &&
        "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$PG_DIR"
}

psql_q() { "$PG_BIN/psql" -X -q -t -A -d "$PG_URL" -c "$1"; }
