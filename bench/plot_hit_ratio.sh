#!/usr/bin/env bash
# Hit ratio against cache size, per reference trace, for exact LRU, Caffeine 2.6.2 (the JVM; best
# of 5 runs), larder's Policy::kTinyLfu (median of 3 caches) and Belady's OPT: writes
# bench/plots/<trace>.svg (gnuplot), bench/plots/hit_ratio.csv, and prints the Markdown table of
# the reference cells (tests/traces/README.md) for bench/README.md.
# Needs the JVM peer and gnuplot (scripts/setup.sh --jvm) and a release build of
# larder_hit_ratio_bench (cmake --workflow --preset release). Usage: bench/plot_hit_ratio.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
bench="${LARDER_HIT_RATIO_BENCH:-$root/build/release/bench/larder_hit_ratio_bench}"
jar=/usr/share/java/caffeine.jar
for need in "$bench" "$jar"; do
  [[ -e "$need" ]] || { echo "plot_hit_ratio.sh: $need missing (see the usage above)" >&2; exit 1; }
done
command -v gnuplot > /dev/null || { echo "plot_hit_ratio.sh: gnuplot missing" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -d "$work" -cp "$jar" "$here/reference/TraceReference.java"
mkdir -p "$here/plots"
csv="$here/plots/hit_ratio.csv"
echo "trace,size,lru,caffeine,opt,tinylfu" > "$csv"

# The reference cells, and per trace a sweep of sizes (a fraction of its distinct keys).
cells="$(sed -n '/^| trace | size | LRU | ARC/,/^$/p' "$root/tests/traces/README.md" |
  awk -F'|' 'NR > 2 && NF > 3 { gsub(/ /, "", $2); gsub(/ /, "", $3); print $2, $3 }')"
for trace in $(echo "$cells" | awk '{print $1}' | uniq); do
  unique="$(zcat "$root/tests/traces/$trace.trace.gz" | sort -u | wc -l)"
  sizes="$( (echo "$cells" | awk -v t="$trace" '$1 == t {print $2}'
    for f in 0.02 0.05 0.1 0.2 0.35 0.5 0.75; do awk -v u="$unique" -v f="$f" 'BEGIN { s = int(u * f); if (s > 0) print s }'; done) | sort -n | uniq | tr '\n' ' ')"
  # shellcheck disable=SC2086
  java -cp "$jar:$work" TraceReference --csv 5 "$root/tests/traces/$trace.trace.gz" $sizes > "$work/jvm.csv"
  # shellcheck disable=SC2086
  "$bench" "$trace" $sizes | tail -n +2 > "$work/larder.csv"
  join -t, -j1 <(awk -F, '{print $1"@"$2","$3","$4","$5}' "$work/jvm.csv" | sort) \
    <(awk -F, '{print $1"@"$2","$4}' "$work/larder.csv" | sort) |
    awk -F, '{split($1, k, "@"); print k[1]","k[2]","$2","$3","$4","$5}' | sort -t, -k2,2n >> "$csv"
  grep "^$trace," "$csv" > "$work/$trace.csv"
  gnuplot <<GP
set terminal svg size 640,400 dynamic font "sans,11"
set output "$here/plots/$trace.svg"
set datafile separator ","
set title "$trace ($unique distinct keys)"
set xlabel "cache size (entries)"
set ylabel "hit ratio (%)"
set logscale x
set key bottom right
set grid
plot "$work/$trace.csv" using 2:6 with linespoints lw 2 title "larder kTinyLfu", \
     "" using 2:4 with linespoints title "Caffeine 2.6.2", \
     "" using 2:3 with linespoints title "exact LRU", \
     "" using 2:5 with lines dashtype 2 title "Belady OPT"
GP
done

echo "| trace | size | LRU | Caffeine 2.6.2 | larder kTinyLfu | OPT |"
echo "|---|---|---|---|---|---|"
echo "$cells" | while read -r trace size; do
  awk -F, -v t="$trace" -v s="$size" '$1 == t && $2 == s {
    printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $6, $5 }' "$csv"
done
