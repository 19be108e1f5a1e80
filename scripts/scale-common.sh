# scale-common.sh - sourced by the scale scripts (scale.sh, scale-ab.sh, scale-pair.sh,
# scale-ratio.sh, bench-scale.sh): the CPU every run is pinned to, one geocode run's CPU time, and medians.

# Every run on one CPU (SCALE_CPU, else the first this shell may use): on a shared host one
# virtual CPU ran 40 % slower than the other for minutes at a time, its cache held by a
# neighbour (docs/scale.md, "The machine's memory, measured").
cpu_pin=${SCALE_CPU:-$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')}

# scale_cpu_s BIN INDEX FILE: user + sys seconds of geocoding FILE on INDEX, one thread, on
# cpu_pin.
scale_cpu_s() {
    local t
    t=$(mktemp)
    /usr/bin/time -f '%U %S' -o "$t" taskset -c "$cpu_pin" "$1" geocode --index "$2" --threads 1 \
        --indelim='|' --outdelim='|' --outcols=displayLatitude,displayLongitude,matchLevel \
        --outputcombined=true --header=true "$3" >/dev/null
    awk '{printf "%.2f", $1 + $2}' "$t"
    rm -f "$t"
}

# The median of the numbers on stdin (one or more a line): the mean of the middle two when
# their count is even.
median_awk='function median(v, n) { return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
scale_median() {
    tr ' ' '\n' | grep . | sort -g | awk "$median_awk"' {v[NR] = $1} END {if (NR) print median(v, NR)}'
}

# scale_summary LABEL UNIT: "  LABEL median (count UNIT, lowest to highest)" of the numbers on
# stdin, one a line.
scale_summary() {
    sort -g | awk -v t="$1" -v u="$2" "$median_awk"' {v[NR] = $1}
        END {if (NR) printf "  %-7s %.3f (%d %s, %.3f to %.3f)\n", t, median(v, NR), NR, u, v[1], v[NR]
             else printf "  %-7s (no %s)\n", t, u}'
}
