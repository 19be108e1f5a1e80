#!/usr/bin/env bash
# Real-world style sets (issue 11): generate them from SHARED/data (make_realworld.py), import
# their areas into one index, geocode every variant with `geobatch geocode` and score it with
# the kit's scorer (SHARED/eval/score.py) against the thresholds: every variant within 25 m
# >= RW_MIN_WITHIN25 (0.95), false precision <= RW_MAX_FP (0.002); the variants listed in
# open.txt are reported, not enforced. Then the Liechtenstein and San Francisco lines without
# their country in an index where Liechtenstein is the main country, against the same
# thresholds.
#   test/eval/realworld/run.sh GEOBATCH_BINARY SHARED_DIR WORK_DIR
# Exit 0 when every threshold holds, 1 when one fails, 2 when a step cannot run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
gb=${1:?usage: run.sh GEOBATCH_BINARY SHARED_DIR WORK_DIR}
shared=$(cd "${2:?usage: run.sh GEOBATCH_BINARY SHARED_DIR WORK_DIR}" && pwd)
work=${3:?usage: run.sh GEOBATCH_BINARY SHARED_DIR WORK_DIR}
min=${RW_MIN_WITHIN25:-0.95}
maxfp=${RW_MAX_FP:-0.002}
mkdir -p "$work/sets" "$work/results"
# pyosmium reads the OSM extracts; Debian's python, whatever python3 is first on PATH
py=/usr/bin/python3
"$py" -c 'import osmium' 2>/dev/null || "$here/../../../scripts/deps.sh" python3-pyosmium >&2
"$py" "$here/make_realworld.py" "$shared/data" "$work/sets" >"$work/sets.log" ||
    { echo "realworld: generator failed"; exit 2; }
idx=$work/realworld.gbx
if [ ! -s "$idx" ] || [ "$gb" -nt "$idx" ]; then
    inputs=()
    while read -r f; do inputs+=("$shared/data/$f"); done <"$work/sets/inputs.txt"
    "$gb" import -o "$idx" "${inputs[@]}" >"$work/import.log" 2>&1 ||
        { echo "realworld: import failed: $(tail -1 "$work/import.log")"; exit 2; }
fi
cols=displayLatitude,displayLongitude,matchLevel,matchType,relevance
results=()
args=()
open_args=()
for q in "$work/sets"/*.txt; do
    v=$(basename "$q" .txt)
    [ "$v" = inputs ] && continue
    out=$work/results/$v.txt
    "$gb" geocode --index "$idx" --indelim='|' --outdelim='|' --outcols=$cols --outputcombined=true \
        --header=true "$q" >"$out" 2>"$out.err" || { echo "realworld: geocode failed on $v"; exit 2; }
    results+=("$out")
    if grep -qx "$v" "$here/open.txt"; then
        open_args+=(--min "$v.within25=$min" --max "$v.false_precision=$maxfp")
    else
        args+=(--min "$v.within25=$min" --max "$v.false_precision=$maxfp")
    fi
done
# the variants still open (open.txt): reported, not enforced
for ((i = 0; i < ${#open_args[@]}; i += 4)); do
    if python3 "$shared/eval/score.py" --truth "$work/sets/truth.tsv" --result "${results[@]}" \
        "${open_args[@]:i:4}" >"$work/results/open.log" 2>&1; then
        echo "realworld: open variant now passes (remove it from open.txt): ${open_args[i + 1]%%.*}"
    else
        grep 'THRESHOLD FAILED' "$work/results/open.log" | sed 's/^/open (not enforced): /'
    fi
done
python3 "$shared/eval/score.py" --truth "$work/sets/truth.tsv" --result "${results[@]}" \
    --json "$work/results/score.json" --details "$work/results/details.tsv" "${args[@]}"
rc=$?

# One main country and another (docs/consistency.md, "The languages a query is read in"):
# Liechtenstein (83 % of the addresses) and San Francisco in one index, every variant's lines of
# both areas without their country column, as many users' files are: a query that names no
# country is read in German first. Scored as one group against the same thresholds.
mc=$work/main_country
mkdir -p "$mc"
mc_idx=$mc/li_sf.gbx
if [ ! -s "$mc_idx" ] || [ "$gb" -nt "$mc_idx" ]; then
    "$gb" import -o "$mc_idx" "$shared/data/osm/liechtenstein-2026-03-29.osm.pbf" \
        "$shared/data/openaddresses/us-ca-san-francisco-excerpt.csv" >"$mc/import.log" 2>&1 ||
        { echo "realworld: main-country import failed: $(tail -1 "$mc/import.log")"; exit 2; }
fi
awk -F'\t' 'NR == 1 || $8 == "li" || $8 == "sf"' "$work/sets/truth.tsv" >"$mc/truth.tsv"
{
    echo 'recId|searchText'
    for q in "$work/sets"/*.txt; do
        [ "$(basename "$q")" = inputs.txt ] && continue
        awk -F'|' 'NR > 1 && ($1 ~ /^li-/ || $1 ~ /^sf-/) {print $1 "|" $2}' "$q"
    done
} >"$mc/queries.txt"
"$gb" geocode --index "$mc_idx" --indelim='|' --outdelim='|' --outcols=$cols --outputcombined=true \
    --header=true "$mc/queries.txt" >"$mc/result.txt" 2>"$mc/result.err" ||
    { echo "realworld: main-country geocode failed"; exit 2; }
echo "main country: Liechtenstein and San Francisco in one index, no country column:"
python3 "$shared/eval/score.py" --truth "$mc/truth.tsv" --result "$mc/result.txt" \
    --min "overall.within25=$min" --max "overall.false_precision=$maxfp" || rc=1
exit $rc
