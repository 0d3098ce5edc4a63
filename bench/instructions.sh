#!/usr/bin/env bash
# Instructions per get-hit and per put-with-eviction under callgrind, for larder and the
# hand-written mutex LRU.
# Usage: bench/instructions.sh [path/to/larder_instructions] (default: the release build).
set -euo pipefail
bin=${1:-"$(dirname "$0")/../build/release/bench/larder_instructions"}
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
          grep -oE 'Collected : [0-9]+' | grep -oE '[0-9]+'; }
for op in get put update; do
  for impl in larder mutex-lru; do
    setup=$(count "$bin" "$impl" "$op" setup)
    total=$(count "$bin" "$impl" "$op")
    echo "$impl: $(( (total - setup) / 1000000 )) instructions per $op"
  done
done
