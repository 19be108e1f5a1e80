#!/usr/bin/env bash
# hostile_conn.sh - `geobatch serve` against hostile connections: clients that send a byte a
# second (headers or body) are cut after --timeout, 1,000 simultaneous requests are all
# answered or refused (none hangs), 1,000 idle connections are all closed by
# --timeout, --max-connections-per-ip keeps one address from taking every slot, and the
# server's threads and descriptors come back to where they were. A job submitted before the
# attacks completes byte-identical to `geobatch geocode`.
set -euo pipefail

NAME=hostile_conn
source "$(dirname "$0")/tools/hostile_lib.sh"
make_bystander_input
# --timeout 2 (which caps --header-timeout): headers must be complete 2 s after the connection
# (or the previous request), a body must average 2048 B/s (--min-body-rate) after 2 s.
# --rate 0: the flood below is not rate limited.
start_server "$T/data" "$T/serve.log" --timeout 2 --rate 0 --max-connections 512 \
    --max-connections-per-ip 0 --log-level info
submit_bystander
threads() { awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status"; }
fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
# conns: connections to the server still open on its side (a thread each until it closes)
conns() { ss -Htn state connected exclude time-wait "( sport = :$PORT )" | wc -l; }
# idle_server: until no connection is open on the server's side and its thread count holds
# still over two reads (a connection thread ends just after its socket closes).
idle_server() {
    local a b
    for ((k = 0; k < 600; k++)); do
        a=$(threads)
        [ "$(conns)" == 0 ] && b=$(threads) && [ "$a" == "$b" ] && return 0
        sleep 0.05
    done
}
idle_server
THREADS0=$(threads)
FDS0=$(fds)

# back_to_start: until the server holds the threads and descriptors of the start (60 s at most:
# each connection thread ends on its own once its client is gone)
back_to_start() {
    local k
    for ((k = 0; k < 1200; k++)); do
        [ "$(threads)" = "$THREADS0" ] && [ "$(fds)" = "$FDS0" ] && return 0
        sleep 0.05
    done
}

# ---- slowloris: a byte a second, in the headers and in a body; an honest slow request ----
# (the clients give up after 60 s: only a server that never cuts them gets near that)
$RAW slow "$PORT" hdr 60 >"$T/slow_hdr" &
S1=$!
$RAW slow "$PORT" body 60 >"$T/slow_body" &
S2=$!
# Meanwhile the server answers others.
sleep 1
alive "during slow clients"
wait "$S1" "$S2"
expect_eq "$(cat "$T/slow_hdr")" "closed after 1 s or more" "byte-a-second headers"
expect_eq "$(cat "$T/slow_body")" "closed after 1 s or more" "byte-a-second body"
grep -q 'http slow client cut phase=headers' "$T/serve.log" || fail "no log line for the headers cut"
grep -q 'http slow client cut phase=body' "$T/serve.log" || fail "no log line for the body cut"
req GET "http://127.0.0.1:$PORT/metrics"
grep -qx 'geobatch_http_slow_clients_cut_total 2' "$T/body" || fail "metrics: slow clients cut"
no_leftovers "$T/data" "slow body"
# A request whose answer takes longer than the header deadline is not cut: the deadline ends
# with the headers. A 4 s long poll of the (submitted, unchanging) bystander is answered 200
# (before the fix the watchdog cut it at 2 s, and the console's 10 s polls at 10 s).
code=$(curl -s -o "$T/poll.xml" -w '%{http_code}' \
    "$BASE/jobs/$BYSTANDER/progress?$A&wait=4&status=submitted&processed=0") || true
expect_eq "$code $(field Status <"$T/poll.xml")" "200 submitted" "a 4 s long poll, 2 s header deadline"
req GET "http://127.0.0.1:$PORT/metrics"
grep -qx 'geobatch_http_slow_clients_cut_total 2' "$T/body" || fail "metrics: the long poll was cut"
# Not every slow request is cut: a body sent in 3 pieces over 3 s (10 KB/s) is accepted.
python3 - "$PORT" "$A" >"$T/paced" <<'EOF'
import socket, sys, time
port, auth = int(sys.argv[1]), sys.argv[2]
body = b"recId|searchText\n" + b"".join(b"%d|Dorfstrasse %d Triesen\n" % (i, i % 40 + 1) for i in range(1200))
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /6.2/jobs?%s&indelim=%%7C&outcols=matchLevel HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (auth.encode(), len(body)))
third = len(body) // 3 + 1
for i in range(3):
    s.sendall(body[i * third:(i + 1) * third])
    time.sleep(1.0)
data = b""
while True:
    got = s.recv(65536)
    if not got:
        break
    data += got
print(data.split(b"\r\n")[0].decode(), b"<Status>submitted</Status>" in data)
EOF
expect_eq "$(cat "$T/paced")" "HTTP/1.1 200 OK True" "a paced upload over 3 s is accepted"

# ---- 1,000 simultaneous requests: every one answered or refused, none left hanging ----
# (rawhttp's flood gives each connection 60 s: "other 0" says none hung. How many are answered
# rather than refused depends on how fast connection threads end, i.e. on the machine's load:
# at a load average of 30 on 2 cores 432 were, 700 to 900 on an idle one.)
got=$($RAW flood "$PORT" 1000 "/6.2/jobs/$BYSTANDER?$A")
[[ "$got" =~ ^answered\ ([0-9]+)\ refused\ ([0-9]+)\ other\ 0\ codes\ 200$ ]] || fail "flood: $got"
expect_eq "$((BASH_REMATCH[1] + BASH_REMATCH[2]))" 1000 "flood: answered + refused"
[ "${BASH_REMATCH[1]}" -ge 100 ] || fail "flood: only ${BASH_REMATCH[1]} answered"
got=$($RAW flood "$PORT" 1000 "/health")
[[ "$got" =~ ^answered\ ([0-9]+)\ refused\ ([0-9]+)\ other\ 0\ codes\ 200$ ]] || fail "flood health: $got"
alive "1,000 simultaneous requests"

# ---- 1,000 idle connections: all closed, then the server answers again. Those over
# --max-connections (512) are closed at once; those it took are held until the timeout (none
# of them closed within 1 s): at least 400, whatever other connections still end meanwhile ----
got=$(RAWHTTP_MIN_SECS=1 $RAW idle "$PORT" 1000 60)
[[ "$got" =~ ^closed\ 1000\ of\ 1000,\ ([0-9]+)\ early$ ]] || fail "idle connections: $got"
[ "${BASH_REMATCH[1]}" -le 600 ] || fail "idle connections: only $((1000 - BASH_REMATCH[1])) held until the timeout"
alive "1,000 idle connections"

# ---- one address cannot take every slot: --max-connections-per-ip ----
# The attacker holds 1,000 idle connections from 127.0.0.2 (still loopback); a client on
# 127.0.0.1 is served meanwhile. Without the cap the same attack refuses it (checked first).
# Wait for the conditions, not for time: the attacker has opened its connections, and the
# server holds the 512 its --max-connections allows (its descriptors; an unaccepted connection
# waits in the kernel's queue, not in the server).
held() { # held PID N: until process PID has N more descriptors than FDS0 (30 s at most)
    local k
    for ((k = 0; k < 600; k++)); do
        [ "$(ls "/proc/$1/fd" | wc -l)" -ge "$((FDS0 + $2))" ] && return 0
        sleep 0.05
    done
    fail "the server never held $2 connections"
}
ready() { # ready FILE: until the attacker has opened every connection (30 s at most)
    local k
    for ((k = 0; k < 600; k++)); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    fail "the attacker never opened its connections"
}
RAWHTTP_READY=$T/ready_a RAWHTTP_SRC=127.0.0.2 $RAW idle "$PORT" 1000 60 >"$T/idle_a" &
S1=$!
ready "$T/ready_a"
held "$SERVER_PID" 500
c=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health") || true
expect_eq "$c" 000 "without a per-address cap, 1,000 idle connections take every slot"
wait "$S1"
start_server "$T/data2" "$T/serve2.log" --timeout 2 --max-connections-per-ip 20
RAWHTTP_READY=$T/ready_b RAWHTTP_SRC=127.0.0.2 $RAW idle "$PORT" 1000 60 >"$T/idle_b" &
S1=$!
ready "$T/ready_b"
req GET "http://127.0.0.1:$PORT/health"
expect_eq "$CODE $BODY" "200 ok" "with --max-connections-per-ip 20 another address is served"
wait "$S1"
expect_eq "$(cat "$T/idle_b")" "closed 1000 of 1000" "capped idle connections closed"

# ---- back on the first server: nothing leaked, nothing lost ----
BASE="http://127.0.0.1:$(sed -n 's/.*port=\([0-9]*\) .*/\1/p' "$T/serve.log" | head -1)/6.2"
SERVER_PID=${PIDS[0]}
PORT=$(sed -n 's/.*port=\([0-9]*\) .*/\1/p' "$T/serve.log" | head -1)
back_to_start
expect_eq "$(threads)" "$THREADS0" "threads back to the start"
expect_eq "$(fds)" "$FDS0" "descriptors back to the start"
no_leftovers "$T/data" "all cases"
finish_bystander
echo "hostile_conn: OK"
