#!/usr/bin/env bash
# Installs the Debian packages larder needs — only those missing. Idempotent; run as root or with
# sudo available.
#
#   ./scripts/setup.sh                         everything: build, test, benchmark, examples (default)
#   ./scripts/setup.sh --library               only what building the library needs: the compiler,
#                                              CMake, Ninja, pkg-config, abseil, xxHash, zlib
#   ./scripts/setup.sh --library --with-redis  the same plus hiredis, for the larder::redis component
#   ./scripts/setup.sh --jvm                   also the opt-in JVM peer of bench/ (a JDK, Debian's
#                                              Caffeine 2.6.2) and gnuplot for the hit-ratio plots
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

mode=all
with_redis=0
with_jvm=0
for arg in "$@"; do
  case "$arg" in
    --library) mode=library ;;
    --jvm) with_jvm=1 ;;
    --with-redis) with_redis=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

library=(
  cmake ninja-build g++ pkg-config
  libabsl-dev libxxhash-dev zlib1g-dev   # larder::larder
)
redis=(libhiredis-dev)                   # larder::redis
everything=(
  clang clang-format libclang-rt-14-dev  # thread-safety and fuzz builds, the format check
  redis-server redis-tools               # the Redis tests' servers, redis-benchmark
  catch2                                 # tests
  nlohmann-json3-dev                     # larder/json_codec.h: its tests, examples/json.cpp
  libhowardhinnant-date-dev tzdata       # larder/calendar.h: its tests, examples/maintenance.cpp
  libbenchmark-dev libtbb-dev libcuckoo-dev  # bench/ and its peers
  libcpp-httplib-dev curl prometheus     # examples/http_service, its e2e test, promtool
  jq                                     # its Prometheus test reads the API and the dashboard
  git                                    # scripts/test-all.sh copies the tracked tree
)

jvm=(default-jdk-headless libcaffeine-java gnuplot-nox)  # bench/reference_table.sh, plots

packages=("${library[@]}")
if [ "$mode" = all ]; then
  packages+=("${redis[@]}" "${everything[@]}")
elif [ "$with_redis" -eq 1 ]; then
  packages+=("${redis[@]}")
fi
if [ "$with_jvm" -eq 1 ]; then packages+=("${jvm[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
