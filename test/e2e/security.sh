#!/usr/bin/env bash
# security.sh - who gets in where with `geobatch serve`: hostile job ids answer 404 and never
# reach a file, another application's job does not exist on any endpoint (and is untouched),
# wrong secrets of any length give 401, failed logins are logged (at most a line a second) and
# throttled per address with 429, secrets never reach the log, a credentials file readable by
# others or writable by its group is warned about (0640 is not), job files are private, and the per-application request rate is bounded with
# 429.
set -euo pipefail

NAME=security
source "$(dirname "$0")/tools/hostile_lib.sh"
make_bystander_input
start_server "$T/data" "$T/serve.log" --log-level debug --rate 0
submit_bystander
NOTFOUND=$(err_doc ApplicationError NotFound "Unknown RequestId")
NORES=$(err_doc ApplicationError NotFound "No such resource")

# A completed job of appA, to attack.
printf 'recId|searchText|country\n1|Dorfstrasse 24 Triesen|LIE\n2|Nowhere 9 Atlantis|LIE\n' >"$T/in.txt"
req POST "$BASE/jobs?$A&action=run&$P&outputcombined=false" --data-binary @"$T/in.txt"
ID=$(job_id)
wait_done "$ID" "$A"
req GET "$BASE/jobs/$ID?$A"
STATUS_A=$BODY

# ---- hostile ids: 404, never a file (the credentials file is the bait) ----
LONG=$(python3 -c 'print("A" * 10000)')
SWAP=$(tr 'a-zA-Z' 'A-Za-z' <<<"$ID")
for id in "../credentials" "..%2fcredentials" "%2e%2e%2fcredentials" "%2e%2e" "..%2f..%2fjobs.db" \
    "$ID%00" "$ID%00/../../credentials" "%00" "$LONG" "$SWAP" "${ID,,}" "${ID^^}" "${ID:0:31}" \
    "${ID}A" "$ID%20" "%20$ID"; do
    for suffix in "" "/result" "/errors" "/all"; do
        req GET "$BASE/jobs/$id$suffix?$A" --path-as-is
        [ "$CODE $BODY" == "404 $NOTFOUND" ] || [ "$CODE $BODY" == "404 $NORES" ] ||
            fail "id ${id:0:50}$suffix: $CODE ${BODY:0:200}"
        [[ "$BODY" != *appA* ]] || fail "credentials served for ${id:0:50}$suffix"
    done
    req DELETE "$BASE/jobs/$id?$A" --path-as-is
    expect_eq "${CODE}" 404 "DELETE ${id:0:50}"
done
req GET "$BASE/jobs/$ID/../../credentials?$A" --path-as-is
expect_eq "$CODE" 404 "dot segments"
req GET "$BASE/jobs/$ID?$A"
expect_eq "$CODE $BODY" "200 $STATUS_A" "the real job is untouched by the id attacks"
[ -e "$T/data/credentials" ] && [ -e "$T/data/jobs.db" ] || fail "a file outside jobs/ was removed"

# ---- another application's job does not exist, on every endpoint and every method ----
for auth in "$B" "apiKey=KEYC"; do
    for spec in "GET /jobs/$ID?action=status" "GET /jobs/$ID" "GET /jobs/$ID.json" \
        "PUT /jobs/$ID?action=run" "PUT /jobs/$ID?action=cancel" "DELETE /jobs/$ID" \
        "GET /jobs/$ID/result" "GET /jobs/$ID/result?outputcompressed=false" \
        "GET /jobs/$ID/errors" "GET /jobs/$ID/no-matches" "GET /jobs/$ID/all" \
        "HEAD /jobs/$ID/result"; do
        m=${spec%% *}
        path=${spec#* }
        sep='?'
        [[ "$path" == *\?* ]] && sep='&'
        if [ "$m" == HEAD ]; then
            CODE=$(curl -s -I -o /dev/null -w '%{http_code}' "$BASE$path$sep$auth")
            expect_eq "$CODE" 404 "$auth $spec"
            continue
        fi
        req "$m" "$BASE$path$sep$auth"
        if [[ "$path" == *.json* ]]; then
            expect_eq "$CODE $BODY" '404 {"type":"ApplicationError","subtype":"NotFound","Details":"Unknown RequestId"}' "$auth $spec"
        else
            expect_eq "$CODE $BODY" "404 $NOTFOUND" "$auth $spec"
        fi
    done
    req GET "$BASE/jobs?$auth"
    [[ "$BODY" == *"<TotalJobs>0</TotalJobs>"* ]] || fail "$auth lists appA's jobs: $BODY"
done
req GET "$BASE/jobs/$ID?$A"
expect_eq "$CODE $BODY" "200 $STATUS_A" "appA's job untouched by appB's attempts"
req GET "$BASE/jobs/$ID/result?$A&outputcompressed=false"
expect_eq "$CODE" 200 "appA still gets its result"

# ---- wrong secrets of every length: 401 (auth.c compares in constant time, no early exit) ----
UNAUTH=$(err_doc PermissionError InvalidCredentials "Invalid or missing credentials")
for cred in "app_id=appA&app_code=codeX" "app_id=appA&app_code=codeAA" "app_id=appA&app_code=code" \
    "app_id=appA&app_code=c" "app_id=appA&app_code=$(python3 -c 'print("x" * 300)')" \
    "app_id=appA&app_code=codeA%00" "app_id=appA&app_code=codeA%00junk" "app_id=appA%00&app_code=codeA" \
    "app_id=appA&app_code=" "app_id=&app_code=codeA" "app_id=appA&app_code=codeB" \
    "app_id=APPA&app_code=codeA" "app_id=appA&app_code=CODEA" "apiKey=KEYX" "apiKey=KEY" \
    "apiKey=KEYCC" "apiKey=keyc" "apiKey=" "app_id=apikey&app_code=KEYC" \
    "app_id=$(python3 -c 'print("a" * 30000)')&app_code=codeA" "apiKey=KEYC$(python3 -c 'print("x" * 30000)')" \
    "app_id=appA&app_code=codeX&apiKey=KEYC" "app_code=codeX&apiKey=KEYC"; do
    req GET "$BASE/jobs/$ID?$cred"
    expect_eq "$CODE $BODY" "401 $UNAUTH" "credentials $cred"
done
for hdr in "Authorization: Bearer KEYX" "Authorization: Bearer KEYCC" "Authorization: Basic S0VZQw==" \
    "Authorization: Bearer"; do
    req GET "$BASE/jobs?x=1" -H "$hdr"
    expect_eq "$CODE" 401 "header $hdr"
done
grep -n 'strcmp\|memcmp\|strncmp' "$(dirname "$0")/../../src/serve/auth.c" | grep -v '"apikey"' &&
    fail "auth.c compares with strcmp/memcmp (early exit)"

# ---- failed logins: throttled per address (50, then one every 2 s: 429 with Retry-After),
# logged at most once a second ----
# From 127.0.0.3 (still loopback): 50 failures in a row are 401, the 51st is refused before
# its credentials are looked at, right ones included; 127.0.0.1 is not affected.
python3 - "$PORT" >"$T/throttle" <<'EOF2'
import http.client, sys, time
port = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.3", 0))
def get(q):
    c.request("GET", "/6.2/jobs?" + q)
    r = c.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After")
t0 = time.monotonic()
codes = [get("app_id=appA&app_code=SECRETWRONG5")[0] for _ in range(50)]
st, ra = get("app_id=appA&app_code=SECRETWRONG5")
ok, ra2 = get("app_id=appA&app_code=codeA")
# 50 failures in under 2 s leave less than one try (one comes back every 2 s)
print(" ".join(sorted(set(str(x) for x in codes))), len(codes), st, ok, ra in ("1", "2"), ra2 in ("1", "2"),
      time.monotonic() - t0 < 1.9)
EOF2
expect_eq "$(cat "$T/throttle")" "401 50 429 429 True True True" "failed logins throttled per address"
req GET "$BASE/jobs?$A&x=throttle" --interface 127.0.0.3
expect_eq "$CODE $BODY" "429 $(err_doc ApplicationError ExceededUsageLimit "Too many failed logins from this address")" "throttled address: 429 document"
req GET "$BASE/jobs?$A"
expect_eq "$CODE" 200 "another address is not throttled"
n=$(grep -c 'auth failed client=127.0.0.3 credentials=app_id app_id=appA not_logged=0$' "$T/serve.log") || true
expect_eq "$n" 1 "the first failed login of 127.0.0.3 logged, with nothing left out before it"
n=$(grep -c 'auth failed client=127.0.0.3 ' "$T/serve.log") || true
[ "$n" -le 2 ] || fail "52 failed logins in under 2 s: $n log lines (at most one a second)"
# The failures left out are counted on the address's next line: fail from 127.0.0.4 until
# that line comes (the condition, not a time; 15 s at most).
for ((k = 0; k < 50; k++)); do
    curl -s -o /dev/null --interface 127.0.0.4 "$BASE/jobs?apiKey=SECRETWRONG6"
    curl -s -o /dev/null --interface 127.0.0.4 "$BASE/jobs?apiKey=SECRETWRONG6"
    grep -q 'auth failed client=127.0.0.4 credentials=apiKey app_id=- not_logged=[1-9]' "$T/serve.log" && break
    sleep 0.3
done
grep -q 'auth failed client=127.0.0.4 credentials=apiKey app_id=- not_logged=[1-9]' "$T/serve.log" ||
    fail "no line counts the failed logins left out: $(grep 'client=127.0.0.4' "$T/serve.log")"

# ---- secrets never reach the log, even at debug level and on failed requests ----
curl -s -o /dev/null "$BASE/jobs?app_id=appA&app_code=codeA&app_code=SECRETWRONG1"
curl -s -o /dev/null "$BASE/jobs?apiKey=SECRETWRONG2"
curl -s -o /dev/null -H 'Authorization: Bearer SECRETWRONG3' "$BASE/jobs/$ID/result"
curl -s -o /dev/null -X POST --data-binary @"$T/in.txt" "$BASE/jobs?apiKey=KEYC&action=run&indelim=%7C&outcols=bogus"
curl -s -o /dev/null -X POST --data-binary @"$T/in.txt" "$BASE/jobs?apiKey=KEYC&action=run&$P"
python3 -c "print('GET /6.2/jobs?app_code=SECRETWRONG4&x=' + 'a' * 100000 + ' HTTP/1.1\r\nHost: x\r\n\r\n', end='')" |
    $RAW send "$PORT" >/dev/null
printf 'GET /6.2/jobs?app_id=appA&app_code=codeA HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' |
    $RAW send "$PORT" >/dev/null
sleep 0.3
for secret in codeA codeB KEYC SECRETWRONG; do
    ! grep -q "$secret" "$T/serve.log" || fail "secret $secret is in the log: $(grep -m1 "$secret" "$T/serve.log")"
done
grep -q 'job created' "$T/serve.log" || fail "the log was not written at all"

# ---- credentials readable by others: a warning at start; 0600: none ----
! grep -q 'credentials readable by others' "$T/serve.log" || fail "warning for a 0600 file"
mkdir -m 700 "$T/data2"
printf 'appA codeA\n' >"$T/data2/credentials"
chmod 644 "$T/data2/credentials"
start_server "$T/data2" "$T/serve2.log" --log-level warn --rate 1 --burst 5
grep -q "credentials readable by others path=$T/data2/credentials mode=644" "$T/serve2.log" ||
    fail "no warning for a 0644 credentials file: $(cat "$T/serve2.log")"

# ---- a bounded request rate per application: 429 with a document and Retry-After ----
# (0640, the Debian package's root:geobatch setup: group-readable is no warning)
printf 'appA codeA\nappB codeB\n' >"$T/data2/credentials"
chmod 640 "$T/data2/credentials"
kill -HUP "$SERVER_PID"
for ((k = 0; k < 600; k++)); do # until the reload is in (appB known), not a time
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs?$B")" == 200 ] && break
    sleep 0.05
done
expect_eq "$(grep -c 'credentials' "$T/serve2.log")" 1 "warnings after reloading a 0640 file (the 0644 one at start only)"
# Ten requests on one connection (one curl): they come faster than the bucket refills (1 a
# second) however loaded the machine is; ten curl processes one after another may not.
args=()
for k in $(seq 1 10); do args+=(-o "$T/body$k" "$BASE/jobs?$A"); done
codes=$(curl -s -w '%{http_code} %header{retry-after}|' "${args[@]}")
[[ "$codes" =~ ^(200\ \|){5}.*429\ 1\| ]] || fail "rate (status and Retry-After): $codes"
k=$(($(tr '|' '\n' <<<"$codes" | grep -n '^429' | head -1 | cut -d: -f1)))
expect_eq "$(cat "$T/body$k")" "$(err_doc ApplicationError ExceededUsageLimit "Too many requests for this application")" "429 document"
req GET "$BASE/jobs?$B"
expect_eq "$CODE" 200 "another application is not limited by appA's rate"
sleep 1.2
req GET "$BASE/jobs?$A"
expect_eq "$CODE" 200 "the bucket refills"
# group-writable (0660): a warning at the reload
printf 'appA codeA\nappB codeB\nappC codeC\n' >"$T/data2/credentials"
chmod 660 "$T/data2/credentials"
kill -HUP "$SERVER_PID"
wait_grep "$T/serve2.log" 'credentials writable by group' || fail "no warning for a 0660 file"
expect_eq "$(grep 'credentials writable' "$T/serve2.log" | cut -d' ' -f3-)" \
    "credentials writable by group path=$T/data2/credentials mode=660 (chmod g-w it)" "the 0660 warning"

# ---- job files are private ----
BASE="http://127.0.0.1:$(sed -n 's/.*port=\([0-9]*\) .*/\1/p' "$T/serve.log" | head -1)/6.2"
finish_bystander
expect_eq "$(stat -c %a "$T/data" "$T/data/jobs" "$T/data/tmp" | tr '\n' ' ')" "700 700 700 " "data dir modes"
expect_eq "$(find "$T/data/jobs" -mindepth 1 -type d -perm /077 | wc -l)" 0 "job dirs 0700"
expect_eq "$(find "$T/data/jobs" -type f -perm /077 | wc -l)" 0 "job files 0600"
expect_eq "$(find "$T/data" -maxdepth 1 -name 'jobs.db*' -perm /077 | wc -l)" 0 "jobs.db 0600"
[ "$(find "$T/data/jobs" -type f | wc -l)" -ge 8 ] || fail "too few job files to check"
echo "security: OK"
