# scale-common.sh - sourced by the scale scripts (scale.sh, scale-ab.sh, scale-ratio.sh,
# bench-scale.sh): the CPU every run is pinned to, one geocode run's CPU time, and a median.

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

# An awk function for the scripts' awk programs: median(v, n) of v[1..n], sorted ascending (the
# mean of the middle two when n is even).
median_awk='function median(v, n) { return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
