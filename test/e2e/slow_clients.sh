#!/usr/bin/env bash
# slow_clients.sh - `geobatch serve` at its default settings against slow clients (issue 13,
# item 3): 1,000 connections from one address trickling headers a byte a second (each opened
# again when the server closes it) take at most --max-connections-per-ip (64) connections and
# threads, and meanwhile >= 99 % of 200 requests from another address are answered 200 with
# p99 < 1 s; trickled headers are cut after --header-timeout (10 s); a body at 600 B/s is cut
# after the 10 s grace (--min-body-rate 2048), one at 8 KB/s is accepted.
# Before: no per-address limit, headers allowed --timeout (60 s), bodies 512 B/s; 520 such
# connections let 5 of 147 requests through.
set -euo pipefail

NAME=slow_clients
source "$(dirname "$0")/tools/hostile_lib.sh"
SLOW="python3 $TOOLS/slow_clients.py"
start_server "$T/data" "$T/serve.log" --log-level info
threads() { awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status"; }
fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
THREADS0=$(threads)
FDS0=$(fds)

# Bodies: a 600 B/s trickle (the attack of the issue) and an honest slow link (8 KB/s).
$SLOW body "$PORT" 600 20 "$A" >"$T/body_slow" &
B1=$!
$SLOW body "$PORT" 8192 13 "$B" >"$T/body_ok" &
B2=$!

# The attack, from 127.0.0.2 (loopback too). Wait for the conditions: every connection
# tried, and the server holding the 64 it allows one address.
$SLOW attack "$PORT" 127.0.0.2 1000 "$T/stop" "$T/ready" >"$T/attack" &
ATTACK=$!
on_exit 'touch "$T/stop"'
for ((k = 0; k < 600; k++)); do [ -e "$T/ready" ] && break; sleep 0.05; done
[ -e "$T/ready" ] || fail "the attacker never opened its connections"
# held: the connections from the attacker's address that the server holds (those in 3 looks
# 50 ms apart: those over the limit are accepted and closed at once, a look may catch some)
held() { $SLOW held "$SERVER_PID" 127.0.0.2 3; }
for ((k = 0; k < 600; k++)); do [ "$(held)" -ge 64 ] && break; sleep 0.05; done
expect_eq "$(held)" 64 "connections from the attacker's address held by the server"
ATTACK_THREADS=$(threads)

# Another address is served meanwhile: 200 requests over 4 threads, each a new connection.
got=$($SLOW serve "$PORT" 200 4 "/6.2/jobs?$B")
echo "slow_clients: with 1,000 slow connections from one address: $got; server threads $THREADS0 -> $ATTACK_THREADS"
[[ "$got" =~ ^ok\ ([0-9]+)\ of\ 200\ p99_ms\ ([0-9]+)\ max_ms\ [0-9]+$ ]] || fail "served: $got"
[ "${BASH_REMATCH[1]}" -ge 198 ] || fail "only ${BASH_REMATCH[1]} of 200 requests answered 200: $got"
[ "${BASH_REMATCH[2]}" -lt 1000 ] || fail "p99 ${BASH_REMATCH[2]} ms: $got"
n=$(held)
[ "$n" -le 64 ] || fail "the server holds $n connections from the attacker's address"
# Threads stay bounded: a thread for each of the attacker's 64 connections and two for each of
# the two uploads (its connection, its validation); not one thread per attacking connection.
[ "$ATTACK_THREADS" -le $((THREADS0 + 64 + 2 * 2)) ] || fail "threads: $THREADS0 -> $ATTACK_THREADS"

# The bodies: the trickle cut after the grace, the slow link accepted.
wait "$B1" "$B2"
# (a loaded machine makes the server later, never earlier: the seconds are lower bounds)
[[ "$(cat "$T/body_slow")" =~ ^cut\ after\ ([0-9]+)\ s$ ]] && [ "${BASH_REMATCH[1]}" -ge 10 ] ||
    fail "600 B/s body: $(cat "$T/body_slow")"
[[ "$(cat "$T/body_ok")" =~ ^200\ after\ ([0-9]+)\ s$ ]] && [ "${BASH_REMATCH[1]}" -ge 13 ] ||
    fail "an 8 KB/s body: $(cat "$T/body_ok")"
# The attacker's headers are cut after 10 s or more (the condition: log lines; 30 s at most).
cut_line() { grep -Eq 'http slow client cut phase=headers seconds=([1-9][0-9]|[1-9][0-9][0-9])\.' "$T/serve.log"; }
for ((k = 0; k < 600; k++)); do
    cut_line && break
    sleep 0.05
done
cut_line || fail "no trickled headers cut after 10 s: $(grep -m3 'slow client' "$T/serve.log")"
touch "$T/stop"
wait "$ATTACK"
[[ "$(cat "$T/attack")" =~ ^tried\ ([0-9]+)\ closed\ ([0-9]+)$ ]] || fail "attack: $(cat "$T/attack")"
[ "${BASH_REMATCH[1]}" -ge 1000 ] || fail "attack: $(cat "$T/attack")"
echo "slow_clients: attacker $(cat "$T/attack")"
req GET "$BASE/jobs?$A"
expect_eq "$CODE" 200 "served after the attack"
echo "slow_clients: OK"
