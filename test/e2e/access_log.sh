#!/usr/bin/env bash
# access_log.sh - `geobatch serve --access-log FILE` (issue 16): one JSON line per request with
# its number, client, application, method, route, path without the query, status, body bytes in
# and out, duration and whether it was answered whole; never a credential (app_code, apiKey, a
# Bearer token, a wrong secret); reopened at SIGHUP (logrotate); a file that cannot be opened
# stops the start with a message. Each line is awaited (it is written after the answer). And the
# server's own log line on the index's pages.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init access_log
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA' 'apikey KEYSECRETC'
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0 --access-log "$T/access.log"
ROOT="http://127.0.0.1:$PORT"
# The server's own log says how much of the index the kernel maps in 2 MiB pages once the
# background check has read it all (a small index: no warning)
wait_grep "$T/serve.log" 'info index checked resident_mb=[0-9]+\.[0-9] 2mib_pages_pct=[0-9]+ recached=0$' ||
    fail "no 'index checked' line: $(cat "$T/serve.log")"
! grep -q 'mostly in 4 KiB pages' "$T/serve.log" || fail "a warning for a small index"
li_rows 20 | { echo 'recId|searchText|country'; cat; } >"$T/in.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude&outputcompressed=false"

# n: how many lines the log must have after each request; sizes: the answer bytes curl got.
wait_lines "$T/access.log" 1 || fail "no line for the start's /health requests"
n0=$(wc -l <"$T/access.log") # serve() waited for /health
n=$n0
sizes=()
get() { # get URL [curl args...]: one request, then wait for its line
    local url=$1
    shift
    sizes+=("$(curl -s -o /dev/null -w '%{size_download}' "$@" "$url")")
    n=$((n + 1))
    wait_lines "$T/access.log" "$n" || fail "no access log line for request $n ($url)"
}
get "$ROOT/health"
get "$BASE/jobs?$A&$P" -X POST --data-binary @"$T/in.txt"
ID=$(curl -s "$BASE/jobs?$A" | grep -oE "$JOBID_RE" | head -1)
n=$((n + 1)) # the list request above
sizes+=(-)
get "$BASE/jobs/$ID?apiKey=KEYSECRETC"
get "$BASE/jobs/$ID" -H 'Authorization: Bearer KEYSECRETC'
get "$BASE/jobs?app_id=appA&app_code=WRONGSECRET"
get "$BASE/jobs/$ID?$A&action=status"
get "$ROOT/nothing/here?app_code=codeA"
get "$BASE/jobs/a%22b%0Ac%C3%A9?$A"
expect_eq "$(wc -l <"$T/access.log")" "$n" "one line per request"

# Every line: valid JSON, these keys in this order, the values expected (time and ms: their form).
python3 - "$T/access.log" "$n0" "$ID" "$(stat -c %s "$T/in.txt")" "${sizes[@]}" <<'EOF' || fail "access log lines: $(cat "$T/access.log")"
import json, re, sys
path, n0, jid, insize = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sizes = sys.argv[5:]
lines = open(path, encoding="ascii").read().splitlines()
for i, line in enumerate(lines[:n0]):  # serve()'s wait for /health
    d = json.loads(line)
    assert (d["id"], d["path"], d["status"]) == (i + 1, "/health", 200), d
lines = lines[n0:]
keys = ["time", "id", "client", "app", "method", "route", "path", "status", "bytes_in",
        "bytes_out", "ms", "done"]
want = [  # app, method, route, path, status, bytes_in
    ("", "GET", "/health", "/health", 200, 0),
    ("appA", "POST", "/6.2/jobs", "/6.2/jobs", 200, insize),
    ("appA", "GET", "/6.2/jobs", "/6.2/jobs", 200, 0),
    ("KEY", "GET", "/6.2/jobs/{id}", "/6.2/jobs/" + jid, 404, 0),
    ("KEY", "GET", "/6.2/jobs/{id}", "/6.2/jobs/" + jid, 404, 0),
    ("", "GET", "/6.2/jobs", "/6.2/jobs", 401, 0),
    ("appA", "GET", "/6.2/jobs/{id}", "/6.2/jobs/" + jid, 200, 0),
    ("", "GET", "", "/nothing/here", 404, 0),
    ("appA", "GET", "/6.2/jobs/{id}", "/6.2/jobs/a\"b\nc\u00c3\u00a9", 404, 0),
]
assert len(lines) == len(want), len(lines)
key_app = None
for i, (line, w) in enumerate(zip(lines, want)):
    d = json.loads(line)
    assert list(d) == keys, (i, list(d))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["time"]), d
    assert d["id"] == n0 + i + 1, d
    assert d["client"] == "127.0.0.1", d
    app = d["app"]
    if w[0] == "KEY":  # an API key's application: key-<hash>, the same for both ways of sending it
        assert re.fullmatch(r"key-[0-9a-f]{32}", app), d
        key_app = key_app or app
        assert app == key_app, d
        app = "KEY"
    assert (app, d["method"], d["route"], d["path"], d["status"], d["bytes_in"]) == w, (i, d, w)
    if sizes[i] != "-":
        assert d["bytes_out"] == int(sizes[i]), (i, d, sizes[i])
    assert isinstance(d["ms"], float) and d["ms"] >= 0, d
    assert d["done"] is True, d
EOF
for secret in codeA KEYSECRETC WRONGSECRET app_code apiKey; do
    ! grep -q "$secret" "$T/access.log" || fail "$secret is in the access log: $(grep "$secret" "$T/access.log")"
done

# SIGHUP: the file is opened again (after logrotate's rename, the next line goes to a new file).
mv "$T/access.log" "$T/access.log.1"
kill -HUP "$SERVER_PID"
wait_grep "$T/serve.log" 'credentials reloaded' || fail "SIGHUP was not taken"
curl -s -o /dev/null "$ROOT/health"
wait_lines "$T/access.log" 1 || fail "no new access log after SIGHUP"
expect_eq "$(wc -l <"$T/access.log.1")" "$n" "the rotated file is left as it was"
grep -q "\"id\":$((n + 1)),.*\"path\":\"/health\"" "$T/access.log" || fail "the line after SIGHUP: $(cat "$T/access.log")"
stop_server

# A file that cannot be opened: the server does not start, and says why.
set +e
"$GB_BIN" serve --index "$T/li.gbx" --data "$T/data" --listen 127.0.0.1:0 \
    --access-log "$T/no/such/dir/access.log" 2>"$T/bad.log"
st=$?
set -e
expect_eq "$st" 1 "exit status with an access log that cannot be opened"
expect_eq "$(cat "$T/bad.log")" \
    "geobatch serve: cannot open access log $T/no/such/dir/access.log: No such file or directory" \
    "the message"
echo "access_log: ok"
