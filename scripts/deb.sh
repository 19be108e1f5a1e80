#!/bin/sh
# deb.sh OUT - build the Debian package (debian/) with dpkg-buildpackage and debhelper, in a
# copy of the source tree under OUT (the files git tracks or would track: the working tree's
# edits included, build directories left out; without git, all but ./build*), so that dpkg-buildpackage's output, which goes
# to the parent of the tree it builds, lands in OUT: OUT/geobatch_VERSION_ARCH.deb. Then
# lintian on it: its tags are printed (and in OUT/lintian.txt); an error tag fails.
set -eu
out=$1
src=$(cd "$(dirname "$0")/.." && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree="$out/geobatch-$version"
rm -rf "$tree"
mkdir -p "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # $f is the inner sh's
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
        tar --null -T - -cf -) | tar -xf - -C "$tree"
else # a tree without git (an unpacked archive): all of it but the build directories
    (cd "$src" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$tree"
fi
rm -f "$out"/geobatch_"$version"_*.deb "$out"/geobatch-dbgsym_"$version"_*.deb
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) || {
    tail -40 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
    exit 1
}
deb=$(ls "$out"/geobatch_"$version"_*.deb)
changes=$(ls "$out"/geobatch_"$version"_*.changes)
# lintian (informational and pedantic tags shown too) exits 1 on an error tag (its default
# --fail-on error)
rc=0
lintian --display-info --pedantic "$changes" >"$out/lintian.txt" 2>&1 || rc=$?
cat "$out/lintian.txt"
[ "$rc" -eq 0 ] || { echo "deb: lintian found errors" >&2; exit 1; }
echo "deb: $deb"
