#!/usr/bin/env bash
# install.sh - `make install` (cmake --install with PREFIX and DESTDIR): the binary, its
# dictionaries and its man pages land under DESTDIR/PREFIX; the installed binary reads the
# installed dictionaries (a bad line added there makes it fail, naming that file) wherever it
# runs from; every man page exists and is the --help of its command (scripts/man.py --check).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init install

ROOT="$T/root"
DESTDIR="$ROOT" cmake --install "$(dirname "$GB_BIN")" --prefix /opt/gb >"$T/install.log" ||
    fail "cmake --install: $(cat "$T/install.log")"
BIN="$ROOT/opt/gb/bin/geobatch"
[ -x "$BIN" ] || fail "no $BIN"
expect_eq "$(cd "$ROOT/opt/gb/share/geobatch/dict" && ls)" "$(cd "$GB_SRC/data/dict" && ls ./*.txt | sed 's:^\./::')" \
    "installed dictionaries"
python3 "$GB_SRC/scripts/man.py" --check "$BIN" "$ROOT/opt/gb/share/man" "$GB_SRC/docs/api.md" ||
    fail "the installed man pages are not the --help"
expect_eq "$(cd "$ROOT/opt/gb/share/man" && find . -type f | sort | tr '\n' ' ')" \
    "./man1/geobatch-check.1 ./man1/geobatch-geocode.1 ./man1/geobatch-import.1 ./man1/geobatch-merge.1 ./man1/geobatch-serve.1 ./man1/geobatch-store.1 ./man1/geobatch-version.1 ./man1/geobatch-work.1 ./man1/geobatch.1 ./man7/geobatch-api.7 " \
    "installed man pages"

# The installed binary works from anywhere, with the installed lists.
mkdir "$T/elsewhere"
(cd "$T/elsewhere" && "$BIN" import -o li.gbx "$LI_CSV" 2>/dev/null) || fail "installed binary cannot import"
printf 'str\tstrasse\tnowhere\n' >>"$ROOT/opt/gb/share/geobatch/dict/de.txt"
set +e
(cd "$T/elsewhere" && "$BIN" import -o li2.gbx "$LI_CSV" 2>"$T/err")
rc=$?
set -e
expect_eq "$rc" 1 "installed binary with a broken installed dictionary"
grep -qF "path=$ROOT/opt/gb/bin/../share/geobatch/dict/de.txt" "$T/err" ||
    fail "the installed dictionary was not the one read: $(cat "$T/err")"
# GB_DICT_DIR still wins
(cd "$T/elsewhere" && GB_DICT_DIR="$GB_SRC/data/dict" "$BIN" import -o li3.gbx "$LI_CSV" 2>/dev/null) ||
    fail "GB_DICT_DIR is not used before the installed lists"
echo "install: ok"
