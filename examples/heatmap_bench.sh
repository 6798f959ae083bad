#!/bin/sh
# Heatmap bench: times `etprox heatmap` (query + render as the binary reports them) for each
# filter, alternating two binaries, each on its own database with the same rounds imported
# (round files from `cargo run --release --example heatmap_bench_rounds -- DIR`).
# Usage: heatmap_bench.sh OLD_BIN OLD_DB_URL NEW_BIN NEW_DB_URL PLAYER_GUID [RUNS]
# Prints one line per filter and binary: first run, then p50 / p95 of the next RUNS.
set -eu
old_bin=$1 old_url=$2 new_bin=$3 new_url=$4 player=$5 runs=${6:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# query + render in ms, from "wrote FILE (N bytes; query Q ms, render R ms)".
one() {
    DATABASE_URL=$2 "$1" heatmap goldrush $3 -o "$out/h.png" 2>/dev/null |
        sed -n 's/.*query \([0-9]*\) ms, render \([0-9]*\) ms.*/\1 \2/p' |
        awk '{ print $1 + $2 }'
}

stats() {
    sort -n | awk -v first="$1" '{ v[NR] = $1 } END {
        p50 = v[int((NR + 1) / 2)]; i95 = int(NR * 0.95 + 0.999); if (i95 > NR) i95 = NR;
        printf "first %5d ms   p50 %5d ms   p95 %5d ms\n", first, p50, v[i95] }'
}

bench() {
    args=$1
    for which in old new; do
        if [ "$which" = old ]; then bin=$old_bin url=$old_url; else bin=$new_bin url=$new_url; fi
        first=$(one "$bin" "$url" "$args")
        i=0
        : > "$out/t"
        while [ $i -lt "$runs" ]; do one "$bin" "$url" "$args" >> "$out/t"; i=$((i + 1)); done
        printf '%-4s %-62s ' "$which" "${args:-all time}"
        stats "$first" < "$out/t"
    done
}

uptime
bench ""
bench "--team axis --kind kills"
bench "--period 7d"
bench "--period 30d --team allies"
bench "--player $player"
bench "--player $player --kind kills --period 30d"
bench "--player $player --weapon mp40 --kind kills"
bench "--weapon mp40"
bench "--engagement solo"
bench "--weapon explosive --engagement outnumbered --team allies"
bench "--weapon mp40 --period 30d"
bench "--weapon bullet --period $(date -u -d '-400 days' +%F)..$(date -u -d '-35 days' +%F)"
bench "--engagement even --kind kills --period session"
uptime
