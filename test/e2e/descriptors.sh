#!/usr/bin/env bash
# descriptors.sh - `geobatch serve` and the open-file limit (issue 13, item 12):
#   1. started with a soft limit of 256 under a higher hard one, the server raises its soft
#      limit to the hard one (before: it kept 256, and about 50 uploads in progress exhausted it);
#   2. with a hard limit too small for --max-connections, the connection limit is lowered to
#      what the descriptors hold (before: 300 uploads under ulimit -n 1024 got 500 EMFILE).
# The answer out of descriptors (503 with Retry-After, not 500) is test_api_doc's
# test_internal_error_busy: a test cannot take a running server's descriptors away here.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init descriptors
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA'
HARD=$(ulimit -Hn)
[ "$HARD" != unlimited ] && [ "$HARD" -gt 512 ] || {
    echo "descriptors: SKIP (hard open-file limit $HARD)"
    exit 0
}
ulimit -Sn 256
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0
ulimit -Sn "$HARD"
limits() { awk '/^Max open files/ {print $4, $5}' "/proc/$SERVER_PID/limits"; }
expect_eq "$(limits)" "$HARD $HARD" "the server's open-file limits (soft hard)"
echo "1. soft open-file limit 256 raised to the hard $HARD"

# A hard limit too small for --max-connections: the connection limit is sized down to what
# the descriptors can hold (6 per connection, 64 + 4 per worker reserved), so that uploads meet
# the connection limit before the descriptor limit.
stop_server
(
    ulimit -n 200
    serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0
    echo "$SERVER_PID" >"$T/pid2"
)
on_exit 'kill -9 "$(cat "$T/pid2")" 2>/dev/null'
grep -q "serve max-connections=512 lowered to 22: 200 open files allowed" "$T/serve.log" ||
    fail "connection limit not sized: $(grep 'open-files\|max-connections' "$T/serve.log")"
kill -TERM "$(cat "$T/pid2")"
echo "2. under ulimit -n 200 the connection limit is lowered to 22"
echo "descriptors: OK"
