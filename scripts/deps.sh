#!/bin/sh
# Install the Debian packages named on the command line that are not installed yet.
# Installs nothing (and never calls apt-get) when all are present. apt-get as root, sudo otherwise;
# concurrent calls install one after the other (flock).
set -eu
missing=""
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
# one installer at a time (tests run in parallel may ask for the same package): wait for the
# others, then look again
if [ -z "${GB_DEPS_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    GB_DEPS_LOCKED=1 exec flock "${TMPDIR:-/tmp}/geobatch-deps.lock" "$0" "$@"
fi
echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
