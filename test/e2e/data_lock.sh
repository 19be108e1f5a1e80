#!/usr/bin/env bash
# data_lock.sh - one `geobatch serve` per data directory (issue 13, item 6). A second server on
# the same --data refuses to start with a clear message and exit status 1, touching nothing
# (before the fix it started, took back the first's claims and removed its uploads in
# progress); the first keeps serving; after the first is killed with -9 the lock is gone and
# a new server starts on the directory at once.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init data_lock
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA'
# --min-body-rate 0: the upload below waits on purpose until the second server gave up, which
# on a loaded machine can take longer than the slow-client watchdog allows a stalled body.
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0 --min-body-rate 0
FIRST=$SERVER_PID
li_rows 300 | { echo 'recId|searchText|country'; cat; } >"$T/in.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude&outputcompressed=false"

# An upload in progress on the first server: headers and half a body, then it waits on a FIFO.
mkfifo "$T/rest"
{ head -c 4000 "$T/in.txt"; cat "$T/rest"; } | curl -s -o "$T/up.out" -X POST -T - "$BASE/jobs?$A&$P" &
UP=$!
on_exit "kill $UP 2>/dev/null; timeout 1 sh -c ': >\"$T/rest\"' 2>/dev/null"
for _ in $(seq 1 600); do
    [ "$(ls "$T/data/tmp" | wc -l)" == 1 ] && break
    sleep 0.05
done
expect_eq "$(ls "$T/data/tmp" | wc -l)" 1 "the upload in progress in tmp/"

# The second server: exit status 1 and the message, within 60 s (it must not start serving).
PORT2=$(free_port)
set +e
timeout 60 "$GB_BIN" serve --index "$T/li.gbx" --data "$T/data" --listen "127.0.0.1:$PORT2" 2>"$T/second.log"
st=$?
set -e
expect_eq "$st" 1 "exit status of a second server on the directory"
expect_eq "$(cat "$T/second.log")" \
    "geobatch serve: data directory $T/data is in use by another geobatch serve (pid $FIRST); one directory serves one server" \
    "the second server's message"
expect_eq "$(ls "$T/data/tmp" | wc -l)" 1 "the first server's upload in progress is still there"

# The first server finishes the upload and runs the job.
tail -c +4001 "$T/in.txt" >"$T/rest"
wait "$UP"
id=$(field RequestId <"$T/up.out")
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "upload on the first server: $(cat "$T/up.out")"
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
wait_state "$id" completed
echo "a second server on the directory: exit 1 with the message; the first one's upload completed"

# kill -9 releases the lock: a new server starts on the directory.
kill9
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0
expect_eq "$(status "$id" | field Status)" completed "the job after a restart"
stop_server
echo "after kill -9 of the holder a new server starts at once"
echo "data_lock: OK"
