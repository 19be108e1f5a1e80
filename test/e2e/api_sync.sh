#!/usr/bin/env bash
# api_sync.sh - the synchronous APIs (Geocoder 6.2 geocode.json / reversegeocode.json /
# search.json, Geocoding & Search v7 /v1/geocode, discover, revgeocode, autosuggest, lookup)
# with curl against a real `geobatch serve` on the Liechtenstein OSM extract: every endpoint,
# parameter and error, and the credentials, rate limit and absolute-form targets they share
# with the job API. Each request's status, Content-Type and body (timestamps and request ids
# replaced by placeholders) make a transcript that must equal test/fixtures/api_sync.golden
# byte for byte (UPDATE=1 rewrites the golden file, for review with git diff).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init api_sync
golden="$PWD/test/fixtures/api_sync.golden"
import_index "$T/li.gbx" "$LI_PBF"
make_data "$T/data" 'appA codeA' 'apikey KEYC'
serve "$T/li.gbx" "$T/data" "$T/serve.log" --log-level warn --rate 0
H="http://127.0.0.1:$PORT"
K="apiKey=KEYC"
P="app_id=appA&app_code=codeA"
STAEDTLE="searchtext=St%C3%A4dtle%201%2C%209490%20Vaduz"

# get TITLE PATH_AND_QUERY [curl args...]: one transcript entry.
get() {
    local title=$1 url=$2
    shift 2
    local out
    out=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$H$url")
    {
        echo "== $title"
        echo "GET $url"
        echo "$out"
        sed -E -e 's/"(Timestamp|timestamp)":"[^"]*"/"\1":"TS"/g' \
            -e 's/"(correlationId|requestId)":"[A-Za-z0-9]{32}"/"\1":"ID"/g' "$T/body"
        echo
    } >>"$T/transcript"
}

# ---- Geocoder 6.2: geocode.json ----
get "6.2 geocode: free text, credentials app_id+app_code" "/6.2/geocode.json?$STAEDTLE&$P"
get "6.2 geocode: jsonattributes=1 lowers every key's first letter" \
    "/6.2/geocode.json?$STAEDTLE&jsonattributes=1&$K"
get "6.2 geocode: structured fields" \
    "/6.2/geocode.json?street=Landstrasse&housenumber=5&city=Vaduz&country=LIE&$K"
get "6.2 geocode: maxresults=3, ambiguous street" \
    "/6.2/geocode.json?searchtext=Landstrasse&maxresults=3&$K"
get "6.2 geocode: an intersection (two streets' ways meet)" \
    "/6.2/geocode.json?searchtext=Landstrasse%20%2F%20Feldkircher%20Strasse%2C%20Schaan&$K"
get "6.2 geocode: no match is an empty View" "/6.2/geocode.json?searchtext=xqzzyv%20qwpf&$K"
get "6.2 geocode: unknown parameters ignored, JSON whatever Accept says" \
    "/6.2/geocode.json?$STAEDTLE&maxresults=1&gen=9&language=en&additionaldata=Country2,true&foo=bar&$K" \
    -H 'Accept: application/xml'
get "6.2 geocode: without .json" "/6.2/geocode?$STAEDTLE&maxresults=1&$K"
get "6.2 geocode: maxresults=0" "/6.2/geocode.json?$STAEDTLE&maxresults=0&$K"
get "6.2 geocode: maxresults=abc" "/6.2/geocode.json?$STAEDTLE&maxresults=abc&$K"
get "6.2 geocode: maxresults=101" "/6.2/geocode.json?$STAEDTLE&maxresults=101&$K"
get "6.2 geocode: jsonattributes=x" "/6.2/geocode.json?$STAEDTLE&jsonattributes=x&$K"
get "6.2 geocode: nothing to search" "/6.2/geocode.json?gen=9&$K"
long=$(head -c 1025 /dev/zero | tr '\0' a)
get "6.2 geocode: searchtext over 1024 bytes" "/6.2/geocode.json?searchtext=$long&$K"

# ---- reversegeocode.json ----
get "6.2 reverse: retrieveAddresses" \
    "/6.2/reversegeocode.json?prox=47.1412167,9.5212545&mode=retrieveAddresses&maxresults=2&$K"
get "6.2 reverse: prox with radius, jsonattributes=1" \
    "/6.2/reversegeocode.json?prox=47.1412167,9.5212545,100&mode=retrieveAddresses&maxresults=1&jsonattributes=1&$K"
get "6.2 reverse: retrieveAreas" \
    "/6.2/reversegeocode.json?prox=47.1412167,9.5212545&mode=retrieveAreas&$K"
get "6.2 reverse: trackPosition with pos (third number: heading)" \
    "/6.2/reversegeocode.json?pos=47.1412167,9.5212545,90&mode=trackPosition&$K"
get "6.2 reverse: nothing there (open sea)" \
    "/6.2/reversegeocode.json?prox=0,0,0&mode=retrieveAddresses&$K"
get "6.2 reverse: mode missing" "/6.2/reversegeocode.json?prox=47.1,9.5&$K"
get "6.2 reverse: mode unknown" "/6.2/reversegeocode.json?prox=47.1,9.5&mode=retrieveLandmarks&$K"
get "6.2 reverse: prox missing" "/6.2/reversegeocode.json?mode=retrieveAddresses&$K"
get "6.2 reverse: latitude out of range" \
    "/6.2/reversegeocode.json?prox=91,9.5&mode=retrieveAddresses&$K"
get "6.2 reverse: radius over 20000" \
    "/6.2/reversegeocode.json?prox=47.1,9.5,20001&mode=retrieveAddresses&$K"

# ---- search.json ----
get "6.2 search: searchtext" "/6.2/search.json?$STAEDTLE&maxresults=1&$K"
id=$(curl -s "$H/6.2/search.json?$STAEDTLE&maxresults=1&$K" |
    sed -n 's/.*"LocationId":"\([^"]*\)".*/\1/p')
get "6.2 search: locationid of that answer" "/6.2/search.json?locationid=$id&$K"
get "6.2 search: locationid of a street" \
    "/6.2/search.json?locationid=$(curl -s "$H/6.2/geocode.json?searchtext=Landstrasse%20Vaduz&maxresults=1&$K" |
        sed -n 's/.*"LocationId":"\([^"]*\)".*/\1/p')&$K"
get "6.2 search: unknown locationid" "/6.2/search.json?locationid=Sffffffff00000000&$K"

# ---- Geocoding & Search v7 ----
get "v7 geocode: q" "/v1/geocode?q=St%C3%A4dtle%201%2C%209490%20Vaduz&limit=1&$K"
get "v7 geocode: qq" "/v1/geocode?qq=city=Vaduz;street=St%C3%A4dtle;houseNumber=1&limit=1&$K"
get "v7 geocode: an intersection, resultType intersection" \
    "/v1/geocode?q=Landstrasse%20%26%20Feldkircher%20Strasse%2C%20Schaan&limit=1&$K"
get "v7 geocode: in=countryCode:LIE, at and lang accepted" \
    "/v1/geocode?q=Landstrasse%205%20Vaduz&in=countryCode:LIE&at=47.14,9.52&lang=de&limit=1&$K"
get "v7 geocode: in=countryCode:DEU,AUT (no such address there)" \
    "/v1/geocode?q=Landstrasse%205%20Vaduz&in=countryCode:DEU,AUT&$K"
get "v7 geocode: in=countryCode:DEU,LIE" \
    "/v1/geocode?q=Landstrasse%205%20Vaduz&in=countryCode:DEU,LIE&limit=1&$K"
get "v7 geocode: limit=undefined is absent" "/v1/geocode?q=Iradug%2052%20Balzers&limit=undefined&$K"
get "v7 geocode: no match" "/v1/geocode?q=xqzzyv%20qwpf&$K"
get "v7 geocode: JSON whatever Accept says" "/v1/geocode?q=Iradug%2052&limit=1&$K" \
    -H 'Accept: application/xml'
get "v7 geocode: neither q nor qq" "/v1/geocode?limit=1&$K"
get "v7 geocode: limit=0" "/v1/geocode?q=Vaduz&limit=0&$K"
get "v7 geocode: qq with an unknown key" "/v1/geocode?qq=town=Vaduz&$K"
get "v7 geocode: in=countryCode:XXX" "/v1/geocode?q=Vaduz&in=countryCode:XXX&$K"
get "v7 geocode: in=planet:" "/v1/geocode?q=Vaduz&in=planet:earth&$K"
get "v7 geocode: at=abc" "/v1/geocode?q=Vaduz&at=abc&$K"
get "v7 discover: q and at" "/v1/discover?q=St%C3%A4dtle%201%2C%209490%20Vaduz&at=47.14,9.52&limit=1&$K"
get "v7 discover: without at or in" "/v1/discover?q=Vaduz&$K"
get "v7 revgeocode: at" "/v1/revgeocode?at=47.1412167,9.5212545&$K"
get "v7 revgeocode: in=circle with limit" \
    "/v1/revgeocode?in=circle:47.1412167,9.5212545;r=60&limit=2&$K"
get "v7 revgeocode: limit=undefined" "/v1/revgeocode?at=47.1412167,9.5212545&limit=undefined&$K"
get "v7 revgeocode: nothing near (open sea)" "/v1/revgeocode?at=0,0&$K"
get "v7 revgeocode: no position" "/v1/revgeocode?$K"
get "v7 revgeocode: r over 20000" "/v1/revgeocode?in=circle:47.1,9.5;r=20001&$K"
get "v7 revgeocode: circle without r" "/v1/revgeocode?in=circle:47.1,9.5&$K"
get "v7 autosuggest: a street name cut in a word, near a point" \
    "/v1/autosuggest?q=St%C3%A4dtle%20&at=47.1412167,9.5212545&limit=3&show=details&$K"
get "v7 autosuggest: prefix, in=countryCode:LIE" \
    "/v1/autosuggest?q=Vorarlberger%20St&in=countryCode:LIE&limit=2&$K"
get "v7 autosuggest: prefix ranked by distance from at" \
    "/v1/autosuggest?q=Landstr&at=47.06,9.50&limit=2&$K"
get "v7 autosuggest: in=bbox" \
    "/v1/autosuggest?q=Iradu&in=bbox:9.4,47.0,9.6,47.2&limit=2&$K"
get "v7 autosuggest: an address and a town cut short" \
    "/v1/autosuggest?q=Iradug%2052%2C%20Balz&at=47.06,9.50&limit=2&$K"
get "v7 autosuggest: in=bbox west of -90" "/v1/autosuggest?q=Gough&in=bbox:-122.5,37.7,-122.3,37.8&limit=1&$K"
get "v7 autosuggest: in=bbox upside down" "/v1/autosuggest?q=Iradu&in=bbox:9.6,47.0,9.4,47.2&$K"
get "v7 autosuggest: nothing starts so" "/v1/autosuggest?q=Qxq&at=47.1,9.5&$K"
get "v7 autosuggest: no at or in" "/v1/autosuggest?q=Land&$K"
get "v7 autosuggest: no q" "/v1/autosuggest?at=47.1,9.5&$K"
# ---- v7 spatial context: at ranks, in= filters (HERE's rules) ----
get "v7 geocode: an ambiguous street without at: the geocoder's order" \
    "/v1/geocode?q=Landstrasse&limit=2&$K"
get "v7 geocode: at in Ruggell ranks Ruggell's Landstrasse first" \
    "/v1/geocode?q=Landstrasse&at=47.24,9.52&limit=2&$K"
get "v7 geocode: at in Balzers ranks Balzers' first" "/v1/geocode?q=Landstrasse&at=47.07,9.51&limit=2&$K"
get "v7 geocode: at does not outrank a better answer" \
    "/v1/geocode?q=Landstrasse%20Vaduz&at=47.24,9.52&limit=2&$K"
get "v7 geocode: in=circle: is not geocode's" "/v1/geocode?q=Landstrasse&in=circle:47.16,9.51;r=3000&$K"
get "v7 discover: in=circle: keeps what lies in the circle" \
    "/v1/discover?q=Landstrasse&in=circle:47.16,9.51;r=3000&limit=5&$K"
get "v7 discover: in=bbox: keeps what lies in the box" \
    "/v1/discover?q=Landstrasse&in=bbox:9.49,47.05,9.53,47.09&limit=5&$K"
get "v7 discover: in=countryCode: with at" \
    "/v1/discover?q=Landstrasse&in=countryCode:LIE&at=47.24,9.52&limit=1&$K"
get "v7 discover: nothing in the circle" "/v1/discover?q=Landstrasse&in=circle:0,0;r=1000&$K"
get "v7 discover: at and in=circle: together" \
    "/v1/discover?q=Landstrasse&at=47.1,9.5&in=circle:47.16,9.51;r=3000&$K"
get "v7 discover: at and in=bbox: together" \
    "/v1/discover?q=Landstrasse&at=47.1,9.5&in=bbox:9.49,47.05,9.53,47.09&$K"
get "v7 discover: circle radius not a whole number" \
    "/v1/discover?q=Landstrasse&in=circle:47.16,9.51;r=1.5&$K"
get "v7 discover: circle radius negative" "/v1/discover?q=Landstrasse&in=circle:47.16,9.51;r=-3&$K"
get "v7 discover: circle centre out of range" "/v1/discover?q=Landstrasse&in=circle:95,9.51;r=3&$K"
get "v7 discover: bbox with three numbers" "/v1/discover?q=Landstrasse&in=bbox:9.49,47.05,9.53&$K"
get "v7 discover: countryCode: empty" "/v1/discover?q=Landstrasse&in=countryCode:&at=47.1,9.5&$K"
get "v7 autosuggest: in=circle: filters the suggestions" \
    "/v1/autosuggest?q=Landstr&in=circle:47.24,9.52;r=2000&limit=5&$K"
get "v7 autosuggest: in=bbox: filters the suggestions" \
    "/v1/autosuggest?q=Landstr&in=bbox:9.49,47.05,9.53,47.09&limit=5&$K"
get "v7 revgeocode: in=bbox: is not revgeocode's" "/v1/revgeocode?in=bbox:9.49,47.05,9.53,47.09&$K"
get "v7 revgeocode: at and in=circle: together" \
    "/v1/revgeocode?at=47.1,9.5&in=circle:47.1412167,9.5212545;r=60&$K"
sid=$(curl -s "$H/v1/geocode?q=Iradug%2052%20Balzers&limit=1&$K" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
get "v7 lookup: the id of an answer" "/v1/lookup?id=$sid&$K"
get "v7 lookup: unknown id" "/v1/lookup?id=Snothing&$K"
get "v7 lookup: no id" "/v1/lookup?$K"
get "v7: POST is 405" "/v1/geocode?q=Vaduz&$K" -X POST
get "6.2: DELETE is 405" "/6.2/geocode.json?searchtext=Vaduz&$K" -X DELETE

# ---- credentials, shared with the job API ----
get "auth 6.2: none" "/6.2/geocode.json?$STAEDTLE"
get "auth 6.2: wrong app_code next to a valid apiKey" \
    "/6.2/geocode.json?$STAEDTLE&app_id=appA&app_code=wrong&$K"
get "auth 6.2: app_id without app_code next to a valid apiKey" \
    "/6.2/geocode.json?$STAEDTLE&app_id=appA&$K"
get "auth 6.2: apikey in lower case" "/6.2/geocode.json?$STAEDTLE&maxresults=1&apikey=KEYC"
get "auth 6.2: Authorization: Bearer" "/6.2/geocode.json?$STAEDTLE&maxresults=1" \
    -H 'Authorization: Bearer KEYC'
get "auth v7: none" "/v1/geocode?q=Vaduz"
get "auth v7: wrong Bearer" "/v1/geocode?q=Vaduz" -H 'Authorization: Bearer nope'
get "auth v7: app_id+app_code" "/v1/geocode?q=Iradug%2052&limit=1&$P"

# ---- absolute-form request targets (RFC 9112 3.2.2), the host ignored ----
abs() { # TITLE TARGET
    curl -s -o "$T/body" -w '%{http_code}' --request-target "$2" "$H/" >"$T/code"
    {
        echo "== $1"
        echo "GET $2"
        cat "$T/code"
        echo
        sed -E -e 's/"Timestamp":"[^"]*"/"Timestamp":"TS"/g' -e 's/<RequestId>[^<]*</<RequestId>ID</g' \
            -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' "$T/body"
        echo
    } >>"$T/transcript"
}
abs "absolute-form 6.2 geocode" \
    "http://geocoder.api.here.com/6.2/geocode.json?$STAEDTLE&maxresults=1&$P"
abs "absolute-form v7 revgeocode, https" \
    "https://revgeocode.search.hereapi.com/v1/revgeocode?at=47.1412167,9.5212545&$K"
abs "absolute-form job list" "http://batch.geocoder.api.here.com/6.2/jobs?$P"
abs "absolute-form, no path" "http://geocoder.api.here.com"

if [ -n "${UPDATE:-}" ]; then
    cp "$T/transcript" "$golden"
    echo "updated $golden"
fi
diff -u "$golden" "$T/transcript" || fail "the transcript differs from $golden"

# ---- keep-alive: answers to requests without a body leave the connection open ----
reused=$(curl -sv -o /dev/null -o /dev/null -o /dev/null "$H/6.2/geocode.json?$STAEDTLE&$K" \
    "$H/v1/geocode?q=Vaduz&$K" "$H/6.2/geocode.json?$STAEDTLE" 2>&1 | grep -c 'Re-using existing connection')
expect_eq "$reused" 2 "connections re-used (an error answer too)"

# ---- the rate limit of the job API applies (429 with HERE's document) ----
stop_server
PORT=
serve "$T/li.gbx" "$T/data" "$T/serve2.log" --log-level warn --rate 1 --burst 2
u="http://127.0.0.1:$PORT/6.2/geocode.json?$STAEDTLE&$K"
# One curl, one connection: the five requests come within milliseconds, so the bucket (1 a
# second) cannot refill between them however loaded the machine is (separate curl processes
# could each take a second to start).
codes=$(curl -s -w "%{http_code} %header{retry-after}|" -o /dev/null "$u" -o /dev/null "$u" \
    -o /dev/null "$u" -o "$T/body" "$u" -o "$T/body7" "http://127.0.0.1:$PORT/v1/geocode?q=Vaduz&$K")
expect_eq "$codes" "200 |200 |429 1|429 1|429 1|" "6.2 rate limit (status and Retry-After)"
expect_eq "$(cat "$T/body")" \
    '{"type":"ApplicationError","subtype":"ExceededUsageLimit","Details":"Too many requests for this application"}' \
    "6.2 429 document"
sed -E 's/"(correlationId|requestId)":"[A-Za-z0-9]{32}"/"\1":"ID"/g' "$T/body7" >"$T/b"
expect_eq "$(cat "$T/b")" \
    '{"status":429,"title":"Too Many Requests","correlationId":"ID","requestId":"ID","cause":"Too many requests for this application","action":"Retry after the seconds that Retry-After gives"}' \
    "v7 429 document"
echo "ok: synchronous APIs"
