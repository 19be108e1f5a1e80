#!/usr/bin/env bash
# Real-world style sets (issue 11): generate them from SHARED/data (make_realworld.py), import
# their areas into one index, geocode every variant with `geobatch geocode` and score it with
# the kit's scorer (SHARED/eval/score.py) against the thresholds: every variant within 25 m
# >= RW_MIN_WITHIN25 (0.95), false precision <= RW_MAX_FP (0.002); the variants listed in
# open.txt are reported, not enforced.
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
