#!/usr/bin/env bash
# deb_package.sh - `make deb` (scripts/deb.sh: dpkg-buildpackage with debhelper, then lintian,
# which fails the build on an error tag; its tags are printed here) gives a package whose
# version is the binary's; whose files, modes, owners and conffiles are exactly those listed
# below (the credentials file 0640); whose unit has the hardening the README promises and passes
# `systemd-analyze verify`; whose geobatch.conf names every `serve` option. Then the package is
# unpacked into a clean root (dpkg -x: `dpkg -i` would run its postinst on this machine) and the
# unit's ExecStart line, its paths moved into that root and nothing else changed, serves an
# index of the Liechtenstein extract made by the installed binary with the installed
# dictionaries: a job of 300 addresses through curl gives what `geobatch geocode` gives, and the
# unit's ExecReload line re-reads the credentials (a new application gets in).
# Skipped when the Debian tools are missing (make test installs them) and under the sanitizers
# (the package is built by Debian's rules, not from GB_BIN: the plain run covers it).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
if [ -n "${GB_ASAN:-}" ]; then
    echo "deb_package: SKIP (the package does not use the sanitizer build)"
    exit 0
fi
for tool in dpkg-buildpackage dh lintian fakeroot; do
    command -v "$tool" >/dev/null || {
        echo "deb_package: SKIP (no $tool: make deb or make test installs debhelper, dpkg-dev, fakeroot, lintian)"
        exit 0
    }
done
e2e_init deb_package

# ---- the build, and lintian ----
"$GB_SRC/scripts/deb.sh" "$T/out" >"$T/deb.log" 2>&1 || {
    tail -30 "$T/deb.log" >&2
    fail "scripts/deb.sh failed"
}
echo "lintian tags (E: error, W: warning, I: info, P: pedantic; none of E):"
grep -E '^[EWIPX]: ' "$T/out/lintian.txt" | sed 's/^/  /' || echo "  (none)"
grep -q '^E: ' "$T/out/lintian.txt" && fail "lintian errors"
VERSION=$(dpkg-parsechangelog -l "$GB_SRC/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
DEB="$T/out/geobatch_${VERSION}_$ARCH.deb"
[ -f "$DEB" ] || fail "no $DEB: $(ls "$T/out")"
expect_eq "$("$GB_BIN" version | head -1)" "geobatch $VERSION" "debian/changelog's version is the binary's"
expect_eq "$(dpkg-deb -f "$DEB" Package Architecture)" "Package: geobatch
Architecture: $ARCH" "control fields"

# ---- files, modes, owners, conffiles ----
man=""
for p in geobatch-check geobatch-geocode geobatch-import geobatch-merge geobatch-serve \
    geobatch-store geobatch-version geobatch-work geobatch; do
    man="$man-rw-r--r-- root/root ./usr/share/man/man1/$p.1.gz
"
done
dict=""
for f in "$GB_SRC"/data/dict/*.txt; do
    dict="$dict-rw-r--r-- root/root ./usr/share/geobatch/dict/$(basename "$f")
"
done
want=$(
    sort <<EOF
-rw-r----- root/root ./etc/geobatch/credentials
-rw-r--r-- root/root ./etc/geobatch/geobatch.conf
-rw-r--r-- root/root ./lib/systemd/system/geobatch.service
-rwxr-xr-x root/root ./usr/bin/geobatch
-rw-r--r-- root/root ./usr/share/doc/geobatch/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/geobatch/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/geobatch/copyright
-rw-r--r-- root/root ./usr/share/geobatch/default/liechtenstein-2026-03-29.osm.pbf
-rw-r--r-- root/root ./usr/share/lintian/overrides/geobatch
-rw-r--r-- root/root ./usr/share/man/man7/geobatch-api.7.gz
$man$dict
EOF
)
got=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $1, $2, $6}' | sort)
expect_eq "$got" "$(grep -v '^$' <<<"$want")" "the package's files"
expect_eq "$(dpkg-deb -I "$DEB" conffiles)" "/etc/geobatch/credentials
/etc/geobatch/geobatch.conf" "conffiles"
# the postinst gives the credentials to the service's group, and keeps that across upgrades
dpkg-deb -I "$DEB" postinst >"$T/postinst"
sh -n "$T/postinst" || fail "postinst is not valid sh"
grep -qF 'dpkg-statoverride --update --add root _geobatch 0640 /etc/geobatch/credentials' \
    "$T/postinst" || fail "postinst does not set the credentials' owner: $(cat "$T/postinst")"
grep -q 'deb-systemd-helper' "$T/postinst" || fail "postinst lacks debhelper's systemd part"

# ---- unpacked into a clean root ----
R="$T/root"
dpkg -x "$DEB" "$R"
expect_eq "$(stat -c '%a' "$R/etc/geobatch/credentials")" 640 "unpacked credentials mode"
cmp "$R/usr/share/geobatch/default/liechtenstein-2026-03-29.osm.pbf" "$LI_PBF" ||
    fail "the packaged extract is not $LI_PBF"

# the unit: hardening, reload, the conf it reads
UNIT="$R/lib/systemd/system/geobatch.service"
# shellcheck disable=SC2016 # $MAINPID is systemd's, written as the unit has it
for line in "DynamicUser=yes" "StateDirectory=geobatch" "ProtectSystem=strict" \
    "NoNewPrivileges=yes" "MemoryDenyWriteExecute=yes" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service" \
    "SupplementaryGroups=_geobatch" "UMask=0077" "CapabilityBoundingSet=" \
    "ExecStart=/usr/bin/geobatch serve --config /etc/geobatch/geobatch.conf" \
    'ExecReload=/bin/kill -HUP $MAINPID'; do
    expect_eq "$(grep -cxF -- "$line" "$UNIT")" 1 "unit line $line"
done
# into the root: every /usr/... and /etc/... word of a unit line
into_root() { sed -E "s#(^| )(/usr|/etc|/var)/#\1$R\2/#g"; }
if command -v systemd-analyze >/dev/null; then
    mkdir "$T/unit"
    sed -E "s#^ExecStart=/usr/bin/#ExecStart=$R/usr/bin/#" "$UNIT" >"$T/unit/geobatch.service"
    systemd-analyze verify --man=no "$T/unit/geobatch.service" >"$T/verify" 2>&1 ||
        fail "systemd-analyze verify: $(cat "$T/verify")"
    [ ! -s "$T/verify" ] || fail "systemd-analyze verify: $(cat "$T/verify")"
    systemd-analyze security --offline=yes --man=no "$T/unit/geobatch.service" 2>/dev/null |
        grep 'Overall exposure' || true
fi

# every option of `serve --help` is a key of geobatch.conf (set, or shown commented out)
CONF="$R/etc/geobatch/geobatch.conf"
"$R/usr/bin/geobatch" serve --help | sed -n 's/^  --\([a-z-]*\)=.*/\1/p' >"$T/opts"
expect_eq "$(wc -l <"$T/opts")" 30 "serve options"
while read -r o; do
    [ "$o" == config ] && continue
    grep -qE "^#?$o( |$)" "$CONF" || fail "geobatch.conf lacks the key $o"
done <"$T/opts"
expect_eq "$(grep -vE '^(#|$)' "$CONF")" "index /var/lib/geobatch/index.gbx
data /var/lib/geobatch/data
listen 127.0.0.1:8080
credentials /etc/geobatch/credentials" "geobatch.conf's settings"

# ---- the unit's ExecStart in the root ----
# The operator's steps (README): import into /var/lib/geobatch/index.gbx (the StateDirectory,
# 0700), add an application to the credentials; here with the installed binary and lists.
mkdir -p "$R/var/lib/geobatch"
chmod 700 "$R/var/lib/geobatch"
(cd "$T" && env -i PATH=/usr/bin:/bin "$R/usr/bin/geobatch" import \
    -o "$R/var/lib/geobatch/index.gbx" "$LI_PBF" 2>"$T/import.log") ||
    fail "import with the installed binary: $(cat "$T/import.log")"
grep -qF "index written path=$R/var/lib/geobatch/index.gbx addresses=12374 " "$T/import.log" ||
    fail "import: $(cat "$T/import.log")"
echo "appA codeA" >>"$R/etc/geobatch/credentials"
PORT=$(free_port)
into_root <"$CONF" | sed "s/^listen .*/listen 127.0.0.1:$PORT/" >"$T/conf" && cat "$T/conf" >"$CONF"
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT" | into_root)
expect_eq "$EXEC" "$R/usr/bin/geobatch serve --config $R/etc/geobatch/geobatch.conf" "ExecStart in the root"
# as systemd runs it: an empty environment, UMask=0077, the working directory /
# shellcheck disable=SC2086 # the ExecStart line is split into words as systemd does (no quotes in it)
(cd / && umask 077 && exec env -i PATH=/usr/bin:/bin $EXEC) 2>"$T/serve.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
BASE="http://127.0.0.1:$PORT/6.2"
wait_health "$PORT" 200 || { cat "$T/serve.log" >&2; fail "the unit's ExecStart did not serve"; }
grep -qF "serve listening=127.0.0.1:$PORT port=$PORT " "$T/serve.log" || fail "banner: $(cat "$T/serve.log")"
grep -qF "applications=1 data=$R/var/lib/geobatch/data" "$T/serve.log" || fail "banner: $(cat "$T/serve.log")"
expect_eq "$(stat -c '%a' "$R/var/lib/geobatch/data")" 700 "data directory mode"

# a job of 300 Liechtenstein addresses, as `geobatch geocode` answers it
{
    echo 'recId|searchText|country'
    li_rows 300
} >"$T/in.txt"
COLS=displayLatitude,displayLongitude,locationLabel,matchLevel,matchType,relevance
"$R/usr/bin/geobatch" geocode --index "$R/var/lib/geobatch/index.gbx" --indelim='|' \
    --outdelim='|' --outcols=$COLS --outputcombined=true "$T/in.txt" >"$T/cli_out.txt" 2>/dev/null
curl -s -X POST --data-binary @"$T/in.txt" \
    "$BASE/jobs?$A&action=run&indelim=%7C&outdelim=%7C&outcols=$COLS&outputcombined=true" >"$T/job.xml"
ID=$(field RequestId <"$T/job.xml")
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "no job: $(cat "$T/job.xml")"
wait_state "$ID" completed
expect_eq "$(status "$ID" | field ProcessedCount)" 300 "rows processed"
curl -s -o "$T/result.txt" "$BASE/jobs/$ID/result?$A&outputcompressed=false"
cmp "$T/result.txt" "$T/cli_out.txt" || fail "the service's result differs from geobatch geocode"
expect_eq "$(tail -n +2 "$T/result.txt" | cut -d'|' -f1 | sort -u | wc -l)" 300 "rows in the result"
expect_eq "$(grep -c '|houseNumber|' "$T/result.txt")" "$(grep -c '|houseNumber|' "$T/cli_out.txt")" \
    "house-number matches"
[ "$(grep -c '|houseNumber|' "$T/result.txt")" -ge 250 ] || fail "too few house-number matches"

# ---- systemctl reload: the unit's ExecReload line re-reads the credentials ----
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$ID?$B&action=status")" 401 \
    "appB before the reload"
echo "appB codeB" >>"$R/etc/geobatch/credentials"
RELOAD=$(sed -n 's/^ExecReload=//p' "$UNIT" | sed "s/\$MAINPID/$SERVER_PID/")
# shellcheck disable=SC2086
$RELOAD
for _ in $(seq 1 100); do
    grep -q 'credentials reloaded applications=2' "$T/serve.log" && break
    sleep 0.05
done
grep -q 'credentials reloaded applications=2' "$T/serve.log" || fail "no reload: $(cat "$T/serve.log")"
curl -s -X POST --data-binary @"$T/in.txt" \
    "$BASE/jobs?$B&action=run&indelim=%7C&outdelim=%7C&outcols=$COLS&outputcombined=true" >"$T/job2.xml"
ID2=$(field RequestId <"$T/job2.xml")
[[ "$ID2" =~ ^$JOBID_RE$ ]] || fail "appB after the reload: $(cat "$T/job2.xml")"
wait_state "$ID2" completed 600 0.05 "$B"
stop_server
grep -q 'serve stopped' "$T/serve.log" || fail "no clean stop: $(cat "$T/serve.log")"
echo "deb_package: ok ($(basename "$DEB"))"
