#!/usr/bin/env bash
# Prints the reference hit-ratio table the trace tests compare larder's policies with: exact LRU,
# Caffeine 2.6.2 (Debian's libcaffeine-java; best of 5 runs, it is randomized) and Belady's OPT,
# for every trace and size in tests/traces/README.md. Needs default-jdk-headless and
# libcaffeine-java (scripts/setup.sh --jvm installs both). Usage: bench/reference_table.sh [runs]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
runs="${1:-5}"
jar=/usr/share/java/caffeine.jar
[[ -r "$jar" ]] || { echo "reference_table.sh: $jar missing (apt-get install libcaffeine-java)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
javac -d "$out" -cp "$jar" "$here/reference/TraceReference.java"
echo "| trace | size | LRU | Caffeine 2.6.2 | OPT |"
echo "|---|---|---|---|---|"
# The cells: the reference table's rows in tests/traces/README.md, in its order.
sed -n '/^| trace | size |/,/^$/p' "$root/tests/traces/README.md" | awk -F'|' 'NR > 2 && NF > 3 {
  gsub(/ /, "", $2); gsub(/ /, "", $3); print $2, $3 }' |
  while read -r trace size; do
    java -cp "$jar:$out" TraceReference "$runs" "$root/tests/traces/$trace.trace.gz" "$size"
  done
